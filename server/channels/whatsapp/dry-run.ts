import { maskPhones } from '../../lib/log';
import type { SendResult } from './d360-client';
import { overLimit } from './limits';

/**
 * The WhatsApp channel without credentials (MODE=dev): prints each message as a transcript line
 * instead of sending it, after the same limit checks a real send gets.
 */
export function dryRunD360(print: (text: string) => void = (t) => process.stdout.write(`${t}\n`)) {
  let n = 0;
  return async (body: Record<string, unknown>): Promise<SendResult> => {
    const refused = overLimit(body);
    if (refused) return { outcome: refused };
    print(transcript(body));
    n++;
    return { outcome: { ok: true }, messageId: `wamid.dry-run.${Date.now()}.${n}` };
  };
}

/** A readable rendering of a message: its text, then its buttons or list rows. */
export function transcript(body: Record<string, unknown>): string {
  const to = maskPhones(String(body.to));
  const lines: string[] = [];
  if (body.type === 'text') lines.push((body.text as { body: string }).body);
  if (body.type === 'interactive') {
    const i = body.interactive as {
      type: string;
      body: { text: string };
      action: {
        buttons?: Array<{ reply: { title: string } }>;
        button?: string;
        sections?: Array<{ rows: Array<{ id: string; title: string }> }>;
      };
    };
    lines.push(i.body.text);
    if (i.type === 'button') lines.push((i.action.buttons ?? []).map((b) => `[${b.reply.title}]`).join(' '));
    if (i.type === 'list') {
      lines.push(`☰ ${i.action.button}:`);
      for (const s of i.action.sections ?? []) for (const r of s.rows) lines.push(`  • ${r.title} (${r.id})`);
    }
  }
  return `[whatsapp dry-run → ${to}]\n${lines.map((l) => `  ${l.replace(/\n/g, '\n  ')}`).join('\n')}`;
}
