import { maskPhones, maskSecrets } from '../lib/log';

/** The longest outside text (an API's error, a failed send's error) an admin alert quotes. */
export const ALERT_DETAIL_MAX = 300;

/**
 * An outside text fit for the admins' chat: configured secrets removed and phones masked (as in the
 * log), line breaks and control characters folded into single spaces, at most ALERT_DETAIL_MAX
 * characters (a cut one ends with "…").
 */
export function cleanAlertDetail(text: string, secrets: readonly string[]): string {
  const line = maskPhones(maskSecrets(text, secrets))
    .replace(/[\s\p{Cc}]+/gu, ' ')
    .trim();
  const chars = Array.from(line);
  return chars.length > ALERT_DETAIL_MAX ? `${chars.slice(0, ALERT_DETAIL_MAX - 1).join('')}…` : line;
}
