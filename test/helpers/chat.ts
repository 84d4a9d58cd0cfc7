import {
  buttonReply,
  listReply,
  mediaMessage,
  nextMessageId,
  textMessage,
  type WebhookBody,
} from '../../fixtures/whatsapp';
import type { FakeD360 } from '../fakes/d360';
import { eventually, http } from './service';

// biome-ignore lint/suspicious/noExplicitAny: message bodies are checked field by field in tests
type Json = any;

/** The visible text of a sent message (body text of text, button or list messages). */
export function bodyText(m: Json): string {
  return m.type === 'text' ? m.text.body : m.interactive.body.text;
}

/** The ids of a button message's reply buttons, in order. */
export function buttonIds(m: Json): string[] {
  return m.interactive.action.buttons.map((b: Json) => b.reply.id);
}

/** The ids of a list message's rows, across its sections. */
export function rowIds(m: Json): string[] {
  return m.interactive.action.sections.flatMap((s: Json) => s.rows.map((r: Json) => r.id));
}

/** A WhatsApp user talking to the service: posts webhooks, returns the ONE reply each gets. */
export class Chat {
  constructor(
    readonly url: string,
    readonly fake: FakeD360,
    readonly waId: string,
    /** Their WhatsApp profile name (the builders' default when not given). */
    readonly name?: string,
  ) {}

  replies(): Json[] {
    return this.fake.sent().filter((m: Json) => m.to === this.waId);
  }

  async post(body: WebhookBody): Promise<number> {
    const res = await http(`${this.url}/webhook`, { body });
    return res.status;
  }

  /** Posts and waits for exactly one new reply to this user. */
  async send(body: WebhookBody): Promise<Json> {
    const before = this.replies().length;
    const status = await this.post(body);
    if (status !== 200) throw new Error(`webhook answered ${status}`);
    return eventually(() => this.replies()[before], 5000, `a reply to ${this.waId}`);
  }

  say(text: string, id = nextMessageId()) {
    return this.send(textMessage({ from: this.waId, name: this.name, body: text, id }));
  }
  tap(buttonId: string) {
    return this.send(buttonReply({ from: this.waId, name: this.name, buttonId }));
  }
  pick(rowId: string) {
    return this.send(listReply({ from: this.waId, name: this.name, rowId }));
  }
  media(kind: 'image' | 'sticker') {
    return this.send(mediaMessage({ from: this.waId, name: this.name, kind }));
  }
}
