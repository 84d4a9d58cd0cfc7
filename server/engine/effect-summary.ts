import { cleanOutsideText } from '../lib/outside-text';
import type { EffectRow, HistoryEffect } from './types';

/** At most this many effects are summarised per history entry, each in at most this many characters. */
export const HISTORY_EFFECTS_LIMIT = 4;
export const EFFECT_SUMMARY_CHARS = 60;
/** The start of the effect's id kept in history: enough to find its outbox row or the call it started. */
export const EFFECT_ID_CHARS = 8;

/**
 * What a step's effects were, in a few bytes for the actor's history: the channel, a short id and one
 * line (the text a message carries, or the effect's plain fields), folded and capped like any quoted
 * outside text (lib/outside-text.ts: phones masked, control characters as spaces).
 */
export function summariseEffects(effects: readonly EffectRow[]): HistoryEffect[] | undefined {
  if (effects.length === 0) return undefined;
  return effects.slice(0, HISTORY_EFFECTS_LIMIT).map((e) => ({
    id: e.id.slice(0, EFFECT_ID_CHARS),
    channel: e.channel,
    summary: cleanOutsideText(summaryOf(e.payload), [], EFFECT_SUMMARY_CHARS),
  }));
}

function summaryOf(payload: Record<string, unknown>): string {
  const text = firstText(payload, 0);
  if (text !== undefined) return text;
  return (
    Object.entries(payload)
      // Times (`askedAt`) say nothing the history entry does not.
      .filter(([k]) => !k.endsWith('At'))
      .filter(([, v]) => typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number')
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')
  );
}

/** The first `text` or `body` string inside a message payload (WhatsApp and Telegram messages). */
function firstText(value: unknown, depth: number): string | undefined {
  if (!value || typeof value !== 'object' || depth > 5) return undefined;
  const o = value as Record<string, unknown>;
  for (const k of ['text', 'body', 'caption']) if (typeof o[k] === 'string' && o[k]) return o[k] as string;
  for (const v of Object.values(o)) {
    const found = firstText(v, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
