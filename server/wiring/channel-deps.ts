import type { Logger } from '../lib/log';

/** What the service hands every channel's wiring (WhatsApp, the gate). */
export interface ChannelDeps {
  log: Logger;
  clock: () => number;
  /** Where dry-run channels print (stdout by default). */
  print?: (t: string) => void;
  /** A webhook refused for its signature or secret (counted for the "someone probing" alert). */
  onRefused?: (route: string) => void;
}
