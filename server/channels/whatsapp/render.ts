import { formatRuDate } from '../../../machines/period';
import { BUTTONS, type Notice, SHIFT_IDS, type View } from '../../../machines/whatsapp-menu';
import { ru } from '../../texts/ru';

/** A 360dialog (Cloud API) message body without the recipient. */
export type OutMessage =
  | { type: 'text'; text: { body: string } }
  | { type: 'interactive'; interactive: Record<string, unknown> }
  | { type: 'template'; template: Record<string, unknown> };

/** An approved template (REMINDER_TEMPLATE): `name:language`. */
export interface TemplateRef {
  name: string;
  language: string;
}

/**
 * The shift reminder outside the 24-hour window, as a template: the body's one parameter is the
 * employee's name (docs/protocols/whatsapp.md#sending-messages).
 */
export function renderReminderTemplate(template: TemplateRef, name: string): OutMessage {
  return {
    type: 'template',
    template: {
      name: template.name,
      language: { code: template.language },
      components: [
        { type: 'body', parameters: [{ type: 'text', text: name.trim() || ru.reminderNameFallback }] },
      ],
    },
  };
}

/** Turns a dialog's reply view into the one message the user gets. */
export function renderView(view: View): OutMessage {
  const lead = view.reset ? `${ru.reset}\n\n` : '';
  switch (view.view) {
    case 'menu':
      return menu(lead + noticeText(view.notice));
    case 'askPeriod':
      return {
        type: 'text',
        text: {
          body: lead + (view.error ? `${ru.periodErrors[view.error]}\n\n${ru.askPeriod}` : ru.askPeriod),
        },
      };
    case 'shiftList': {
      const question = view.isToday
        ? ru.listBodyToday(formatRuDate(view.start))
        : view.start === view.end
          ? ru.listBodyDay(formatRuDate(view.start))
          : ru.listBodyPeriod(formatRuDate(view.start), formatRuDate(view.end), view.days);
      return shiftList(lead + (view.hint ? `${ru.pickFromList}\n\n${question}` : question));
    }
  }
}

function noticeText(notice: Notice | undefined): string {
  if (!notice) return ru.menuBody;
  switch (notice.kind) {
    case 'recorded': {
      const shift = ru.shifts[notice.shift];
      const { start, end, days } = notice.range;
      const head =
        start === end
          ? ru.recordedOne(formatRuDate(start), shift)
          : ru.recordedRange(formatRuDate(start), formatRuDate(end), days, shift);
      const replaced =
        notice.replaced === 0
          ? ''
          : days === 1
            ? `\n${ru.replacedOne}`
            : `\n${ru.replacedSome(notice.replaced, days)}`;
      return `${head}${replaced}\n\n${ru.nextStep}`;
    }
    case 'status': {
      if (notice.records.length === 0) return `${ru.statusEmpty}\n\n${ru.menuBody}`;
      const lines = notice.records.map((r) => ru.statusLine(formatRuDate(r.date), ru.shifts[r.shift]));
      return `${ru.statusTitle}\n${lines.join('\n')}\n\n${ru.menuBody}`;
    }
    case 'unsupported':
      return ru.unsupported;
    case 'unknownButton':
      return ru.unknownButton;
    case 'cancelled':
      return `${ru.cancelled} ${ru.menuBody}`;
    case 'reminder':
      return `${ru.reminder(formatRuDate(notice.date))}\n\n${ru.menuBody}`;
    case 'remindersOff':
      return `${ru.remindersOff}\n\n${ru.menuBody}`;
    case 'remindersOn':
      return `${ru.remindersOn}\n\n${ru.menuBody}`;
  }
}

function menu(body: string): OutMessage {
  return {
    type: 'interactive',
    interactive: {
      type: 'button',
      body: { text: body },
      action: {
        buttons: (Object.keys(BUTTONS) as Array<keyof typeof BUTTONS>).map((id) => ({
          type: 'reply',
          reply: { id, title: ru.buttons[id] },
        })),
      },
    },
  };
}

function shiftList(body: string): OutMessage {
  return {
    type: 'interactive',
    interactive: {
      type: 'list',
      body: { text: body },
      action: {
        button: ru.listButton,
        sections: [
          {
            title: ru.listSection,
            rows: (Object.keys(SHIFT_IDS) as Array<keyof typeof SHIFT_IDS>).map((id) => ({
              id,
              title: ru.shifts[SHIFT_IDS[id]],
              description: ru.shiftDescriptions[SHIFT_IDS[id]],
            })),
          },
        ],
      },
    },
  };
}
