/** Shared by the simulator's pure modules (./simulate-args.ts, ./simulate-gate.ts). */
import type { WebhookBody } from '../fixtures/whatsapp';
import type { ZadarmaFields } from '../fixtures/zadarma';

/** Thrown for a bad command line (the tools' one, server/ops/cli.ts). */
export { UsageError } from '../server/ops/cli';

/** Which endpoint a step goes to (and how its body is encoded). */
export type Channel = 'whatsapp' | 'telegram' | 'zadarma';

interface StepBase {
  /** short human description, e.g. `text "меню"`, `tg "/hvirtka"`, `zadarma NOTIFY_END hvirtka …` */
  label: string;
  /** headers this step needs besides Content-Type (Zadarma's Signature, Telegram's secret token) */
  headers?: Record<string, string>;
}

/** One POST: a JSON body (WhatsApp, Telegram) or Zadarma's form fields (sent url-encoded). */
export type Step =
  | (StepBase & { channel: 'whatsapp' | 'telegram'; body: WebhookBody })
  | (StepBase & { channel: 'zadarma'; body: ZadarmaFields });
