/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A URL of this server with the admin token carried along (admin pages link to each other). */
export function withToken(
  path: string,
  token: string | undefined,
  params: Record<string, string> = {},
): string {
  const q = new URLSearchParams(params);
  if (token) q.set('token', token);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
