import type { Config } from '../config/config';
import { isLoopbackHost } from '../lib/loopback';

/** No channel talks to a real platform: each one is dry (prints) or off. */
export function everyChannelDry(config: Pick<Config, 'whatsapp' | 'telegram' | 'zadarma'>): boolean {
  return [config.whatsapp.mode, config.telegram.mode, config.zadarma.mode].every((m) => m !== 'live');
}

/**
 * Whether the inspector opens without the admin token: only a development run (MODE=dev) with no live
 * channel that listens on a loopback address. Anything else (a live channel, HOST=0.0.0.0, prod)
 * needs ADMIN_TOKEN, so production is never open by accident.
 */
export function inspectorOpen(config: Config): boolean {
  return config.mode === 'dev' && everyChannelDry(config) && isLoopbackHost(config.host);
}
