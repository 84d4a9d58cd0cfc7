/**
 * The public URL: the https origin the platforms call (PUBLIC_URL, or `webhooks set --public-url`), and
 * the path each platform's webhook has under it. 360dialog refuses a URL with a port or an underscore in
 * the host name (docs/protocols/whatsapp.md#registering-the-webhook), so those are refused for every
 * platform: one origin serves all three.
 */
export const WEBHOOK_PATHS = {
  whatsapp: '/webhook',
  telegram: '/telegram/webhook',
  zadarma: '/zadarma/webhook',
} as const;

export type Platform = keyof typeof WEBHOOK_PATHS;

/** `https://host` normalised (no trailing slash), or why it cannot be a public URL. */
export function parsePublicUrl(raw: string): { url: string } | { error: string } {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return {
      error: `must be the https origin the platforms call, such as https://bot.example.com; got "${raw}"`,
    };
  }
  if (u.protocol !== 'https:')
    return { error: `must start with https:// (the platforms call HTTPS URLs only), got "${raw}"` };
  if (u.port !== '')
    return {
      error: `must not have a port (":${u.port}"): 360dialog refuses such URLs; put a TLS proxy on port 443 in front (docs/DEPLOY.md)`,
    };
  if (u.hostname.includes('_'))
    return { error: `must not have "_" in the host name (360dialog refuses it), got "${u.hostname}"` };
  if (u.username || u.password) return { error: 'must not contain a user name or password' };
  if (u.search || u.hash) return { error: 'must not have a query (?…) or a fragment (#…)' };
  if (u.pathname !== '/')
    return { error: `must be the origin only (https://${u.host}), without a path, got "${u.pathname}"` };
  return { url: u.origin };
}

/** The URL of one platform's webhook under a public origin. */
export function webhookUrl(publicUrl: string, platform: Platform): string {
  return `${publicUrl}${WEBHOOK_PATHS[platform]}`;
}

/** True when `url` is an https URL whose path is exactly `path` (any host). */
export function endsWithPath(url: string, path: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && u.pathname === path;
  } catch {
    return false;
  }
}
