import type { Config } from '../config/config';

/** 127.0.0.0/8, ::1 (also as an IPv4-mapped address) and localhost. */
function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  const parts = v4.split('.');
  return (
    parts.length === 4 && parts[0] === '127' && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)
  );
}

/**
 * The inspector's open development mode: MODE=dev, no channel live (each dry or off) and listening on
 * loopback only. Then nothing real can be reached through it and nobody else can reach it.
 */
export function inspectorOpen(config: Config): boolean {
  const channels = [config.whatsapp.mode, config.telegram.mode, config.zadarma.mode];
  return (
    config.mode === 'dev' && channels.every((m) => m === 'dry' || m === 'off') && isLoopback(config.host)
  );
}
