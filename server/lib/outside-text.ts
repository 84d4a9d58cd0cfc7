import { maskPhones, maskSecrets } from './log';

/** The longest outside text (an API's error, a failed send's error) quoted to an admin or a user. */
export const OUTSIDE_TEXT_MAX = 300;

/**
 * An outside text (what an upstream API answered) fit to be quoted in a chat: configured secrets
 * removed and phones masked (as in the log), line breaks and control characters folded into single
 * spaces, at most `max` characters (a cut one ends with "…").
 */
export function cleanOutsideText(text: string, secrets: readonly string[], max = OUTSIDE_TEXT_MAX): string {
  const line = maskPhones(maskSecrets(text, secrets))
    .replace(/[\s\p{Cc}]+/gu, ' ')
    .trim();
  const chars = Array.from(line);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : line;
}
