import { ru } from '../texts/ru';
import { escapeHtml } from './html';

const t = ru.adminSignIn;

/** The sign-in form: the token is posted (never put in a URL) and `next` says where to go back to. */
export function loginPage(next: string, problem?: string): string {
  return `<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(t.title)}</title>
<style>
body{font:15px system-ui,sans-serif;margin:3rem auto;max-width:24rem;color:#222;padding:0 1rem}
h1{font-size:1.3rem}
label{display:block;margin:1rem 0 .3rem}
input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit}
button{margin-top:1rem;padding:.5rem 1.2rem;font:inherit;background:#1565c0;color:#fff;border:0;border-radius:4px}
.problem{color:#b71c1c}
</style></head><body>
<h1>${escapeHtml(t.title)}</h1>
${problem ? `<p class="problem" role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/admin/login">
<input type="hidden" name="next" value="${escapeHtml(next)}">
<label for="token">${escapeHtml(t.token)}</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">${escapeHtml(t.submit)}</button>
</form>
</body></html>
`;
}
