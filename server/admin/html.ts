/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A URL of this server with its query (admin pages link to each other; the sign-in cookie goes along). */
export function localUrl(path: string, params: Record<string, string>): string {
  const s = new URLSearchParams(params).toString();
  return s ? `${path}?${s}` : path;
}
