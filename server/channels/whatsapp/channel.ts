import { MACHINES } from '../../../machines/index';
import {
  datesToCheck,
  type WhatsAppMenuContext,
  type WhatsAppMenuEvent,
} from '../../../machines/whatsapp-menu';
import {
  employeeSeen,
  getEmployee,
  markWindowClosed,
  recentRecords,
  recordShifts,
  setRemindersStopped,
  takenDates,
  windowOpen,
} from '../../../storage/attendance';
import { getMessage, messageSent, messageStatus } from '../../../storage/messages';
import { defineBinding } from '../../engine/define-binding';
import type { Engine } from '../../engine/engine';
import type { Binding, EffectRunner } from '../../engine/types';
import { dateIn } from '../../lib/clock';
import type { Logger } from '../../lib/log';
import type { SendResult } from './d360-client';
import type { ParsedWebhook } from './inbound';
import { renderReminderTemplate, renderView, type TemplateRef } from './render';

export const WHATSAPP_MACHINE = MACHINES['whatsapp-menu'].name;
export const WHATSAPP_CHANNEL = 'whatsapp';
/** Meta's code for "more than 24 hours since the user last wrote". */
const WINDOW_CLOSED_CODE = 131047;

/** The actor key of one WhatsApp user. */
export const waKey = (waId: string) => `wa:${waId}`;
const waIdOf = (key: string) => key.slice(3);

/**
 * How the attendance dialog's actions become effects: `reply` → one outbox message, `recordShift` →
 * records, `remindTemplate` → the approved template (REMINDER_TEMPLATE; without one, a log line),
 * `setReminders` → the employee's "стоп" / "старт".
 */
export function whatsappBinding(deps: { template?: TemplateRef; log?: Logger } = {}): Binding {
  return defineBinding(MACHINES['whatsapp-menu'], {
    input: (_key, reset) => ({ reset }),
    actions: {
      reply(view, { key }, plan) {
        plan.effects.push({
          channel: WHATSAPP_CHANNEL,
          payload: { to: waIdOf(key), message: renderView(view) },
        });
      },
      recordShift({ dates, shift, messageId }, { key, now }, plan) {
        plan.writes.push(recordShifts(waIdOf(key), dates, shift, now, messageId));
      },
      remindTemplate({ name }, { key }, plan) {
        const waId = waIdOf(key);
        if (deps.template) {
          plan.effects.push({
            channel: WHATSAPP_CHANNEL,
            payload: { to: waId, message: renderReminderTemplate(deps.template, name) },
          });
        } else {
          const why = 'outside the 24-hour window and no REMINDER_TEMPLATE';
          deps.log?.warn(`whatsapp: reminder not sent: ${why}`, { to: waId });
        }
      },
      setReminders({ on }, { key }, plan) {
        plan.writes.push(setRemindersStopped(waIdOf(key), !on));
      },
    },
  });
}

/** Feeds every item of a parsed webhook to the engine; resolves once all are committed. */
export async function dispatchWebhook(
  engine: Engine,
  parsed: ParsedWebhook,
  deps: { timezone: string; log: Logger },
): Promise<void> {
  const store = engine.store;
  // Started in body order: the engine's per-key lock keeps one user's messages in that order.
  const jobs = parsed.items.map((item) => {
    if (item.kind === 'status') {
      const closed = item.status === 'failed' && item.errors.some((e) => e.code === WINDOW_CLOSED_CODE);
      if (item.status === 'failed') {
        deps.log.warn('whatsapp: message failed', {
          id: item.messageId,
          to: item.recipient,
          errors: item.errors,
        });
      }
      // A redelivered status is recognised by the message's record, which lists every status seen: no
      // dedupe document per status (there are ~3 per sent message).
      return engine.record({
        key: waKey(item.recipient),
        writes: (now) => {
          const sent = getMessage(store, item.messageId);
          if (sent?.statuses?.some((s) => s.status === item.status)) return [];
          return [
            ...(sent
              ? [
                  messageStatus(
                    item.messageId,
                    item.status,
                    item.timestamp * 1000 || now,
                    item.errors.length ? item.errors : undefined,
                  ),
                ]
              : []),
            ...(closed ? [markWindowClosed(item.recipient, now)] : []),
          ];
        },
      });
    }
    const { waId, messageId, input, name } = item;
    return engine.dispatch({
      key: waKey(waId),
      machine: WHATSAPP_MACHINE,
      dedupeKey: `wa:${messageId}`,
      event: ({ now, context }): WhatsAppMenuEvent => {
        const today = dateIn(deps.timezone, now);
        const dates = datesToCheck(
          // The engine hands over the stored context untyped; this key's actor is a whatsapp-menu.
          (context as WhatsAppMenuContext | undefined) ?? { pending: null, deadline: null, reset: false },
          today,
        );
        return {
          ...input,
          now,
          today,
          messageId,
          recent: recentRecords(store, waId),
          taken: takenDates(store, waId, dates),
        };
      },
      writes: (now) => [employeeSeen(waId, name, now)],
    });
  });
  await Promise.all(jobs);
}

/** Carries out `whatsapp` effects: checks the 24-hour window (templates may go outside it), sends, remembers the wamid. */
export function whatsappRunner(deps: {
  engine: Engine;
  send: (body: Record<string, unknown>, signal?: AbortSignal) => Promise<SendResult>;
  log: Logger;
  clock?: () => number;
}): EffectRunner {
  const clock = deps.clock ?? Date.now;
  return async (effect, signal) => {
    const to = String(effect.payload.to);
    // The payload is what this binding's `reply` (or `remindTemplate`) stored: a rendered message.
    const message = effect.payload.message as Record<string, unknown>;
    if (message.type !== 'template' && !windowOpen(getEmployee(deps.engine.store, to), clock())) {
      deps.log.warn('whatsapp: not sent, the 24-hour window is closed', { to, effect: effect.id });
      return { ok: true };
    }
    const result = await deps.send(
      {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to,
        ...message,
      },
      signal,
    );
    if (!result.outcome.ok || !result.messageId) return result.outcome;
    return {
      ok: true,
      writes: [messageSent({ id: result.messageId, to, sentAt: clock() })],
    };
  };
}
