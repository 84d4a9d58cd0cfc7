import { escapeHtml } from '../admin/html';

/** The inspector's HTML shell; `static/inspect.js` (a module importing its siblings) fills it from the JSON endpoints. */
export function inspectPage(): string {
  const asset = (name: string) => escapeHtml(`/inspect/assets/${name}`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Switchboard inspector</title>
<link rel="stylesheet" href="${asset('inspect.css')}">
</head><body>
<header>
  <h1>Switchboard inspector</h1>
  <label>Filter actors by key <input id="filter" type="search" placeholder="e.g. 4567 or wa:" autocomplete="off"></label>
  <span id="status" class="status">loading…</span>
  <a href="/admin/attendance">Attendance</a>
</header>
<main id="machines"></main>
<script src="${asset('mermaid.min.js')}"></script>
<script type="module" src="${asset('inspect.js')}"></script>
</body></html>
`;
}
