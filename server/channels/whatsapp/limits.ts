import type { EffectOutcome } from '../../engine/types';

/**
 * The documented limits of WhatsApp messages (Cloud API via 360dialog), checked before sending so a
 * message the platform would refuse fails here with a clear reason instead of as an opaque 400.
 * Lengths are counted in characters (code points), as the platform does.
 */
const len = (s: unknown) => (typeof s === 'string' ? [...s].length : -1);

/** The outbox's answer for a message over a limit (permanent: retrying cannot help); undefined within them. */
export function overLimit(msg: Record<string, unknown>): EffectOutcome | undefined {
  const limit = checkMessageLimits(msg);
  return limit
    ? { ok: false, permanent: true, error: `not sent, over a WhatsApp limit: ${limit}` }
    : undefined;
}

export function checkMessageLimits(msg: Record<string, unknown>): string | null {
  if (msg.type === 'text') {
    const body = len((msg.text as { body?: unknown } | undefined)?.body);
    return body >= 1 && body <= 4096 ? null : `text body must be 1..4096 characters, got ${body}`;
  }
  if (msg.type !== 'interactive') return null;
  const i = msg.interactive as Record<string, unknown>;
  const body = len((i.body as { text?: unknown } | undefined)?.text);
  if (body < 1 || body > 1024) return `interactive body must be 1..1024 characters, got ${body}`;
  const action = (i.action ?? {}) as Record<string, unknown>;
  if (i.type === 'button') {
    const buttons = (action.buttons ?? []) as Array<{ reply?: { id?: string; title?: string } }>;
    if (buttons.length < 1 || buttons.length > 3) return `1..3 reply buttons allowed, got ${buttons.length}`;
    const titles = new Set<string>();
    for (const b of buttons) {
      const t = len(b.reply?.title);
      if (t < 1 || t > 20) return `button title "${b.reply?.title}" must be 1..20 characters, got ${t}`;
      if (len(b.reply?.id) < 1 || len(b.reply?.id) > 256) return 'button id must be 1..256 characters';
      if (titles.has(b.reply?.title ?? '')) return `button titles must be unique: "${b.reply?.title}"`;
      titles.add(b.reply?.title ?? '');
    }
    return null;
  }
  if (i.type === 'list') {
    const button = len(action.button);
    if (button < 1 || button > 20) return `list button must be 1..20 characters, got ${button}`;
    const sections = (action.sections ?? []) as Array<{
      title?: string;
      rows?: Array<Record<string, string>>;
    }>;
    if (sections.length < 1 || sections.length > 10)
      return `1..10 list sections allowed, got ${sections.length}`;
    let rows = 0;
    for (const s of sections) {
      if (sections.length > 1 && len(s.title) < 1) return 'section title required with several sections';
      if (s.title !== undefined && len(s.title) > 24) return `section title "${s.title}" over 24 characters`;
      for (const r of s.rows ?? []) {
        rows++;
        if (len(r.title) < 1 || len(r.title) > 24) return `row title "${r.title}" must be 1..24 characters`;
        if (r.description !== undefined && len(r.description) > 72)
          return `row description over 72 characters`;
        if (len(r.id) < 1 || len(r.id) > 200) return 'row id must be 1..200 characters';
      }
    }
    return rows >= 1 && rows <= 10 ? null : `1..10 list rows allowed, got ${rows}`;
  }
  return `unknown interactive type ${String(i.type)}`;
}
