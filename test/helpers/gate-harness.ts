/**
 * The gate deployment under test: the REAL service (in-process, or as a child process) talking to the
 * fake Telegram Bot API and the fake Zadarma REST API, with a movable clock, Telegram users that send
 * updates and wait for the bot's messages, and signed Zadarma webhooks.
 */
import { commandUpdate, contactUpdate, callbackQueryUpdate as tapUpdate } from '../../fixtures/telegram';
import { incomingCall, type ZadarmaFields } from '../../fixtures/zadarma';
import type { CallDoc } from '../../storage/calls';
import { type FakeTelegram, type Json, type SentItem, startFakeTelegram } from '../fakes/telegram';
import { type FakeZadarma, startFakeZadarma } from '../fakes/zadarma';
import { zadarmaPoster } from './ivr-zadarma';
import {
  eventually,
  type HttpAnswer,
  http,
  type ServiceProcess,
  spawnService,
  startTestService,
  type TestService,
  tmpDataDir,
} from './service';

export const TG_TOKEN = '7000000001:AAFakeTokenForGateTests_0123456789ab';
export const ZD_KEY = 'gatekey0123456789abc';
export const ZD_SECRET = 'gatesecret0123456789';
export const ZD_CALLER = '380443334455';
export const RELAY = { hvirtka: '380637442017', vorota: '380930063585' } as const;
export const GATES_ENV = 'hvirtka=0637442017,vorota=0930063585';
export const SUPPORT = '+380 44 111 22 33';
export const CALLBACK_PATH = '/v1/request/callback/';

/**
 * A clock the test moves forward. Real time keeps running underneath (so outbox retries still fire)
 * unless the test freezes it, for exact arithmetic on time left; a frozen clock never lets a retried
 * effect come due, so freeze only where nothing fails.
 */
export class TestClock {
  offset = 0;
  private frozenAt: number | null = null;
  readonly now = (): number => (this.frozenAt ?? Date.now()) + this.offset;
  advance(ms: number): void {
    this.offset += ms;
  }
  freeze(): void {
    this.frozenAt = Date.now();
  }
}

export interface Fakes {
  tg: FakeTelegram;
  zd: FakeZadarma;
  close(): Promise<void>;
}

export async function startFakes(): Promise<Fakes> {
  const tg = await startFakeTelegram({ token: TG_TOKEN });
  const zd = await startFakeZadarma({ key: ZD_KEY, secret: ZD_SECRET });
  return {
    tg,
    zd,
    close: async () => {
      await tg.close();
      await zd.close();
    },
  };
}

/** The env of a live gate deployment against the fakes (test services start from a blank env: testEnv). */
export function gateEnv(f: Fakes, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {
    TELEGRAM_BOT_TOKEN: TG_TOKEN,
    TELEGRAM_API_ROOT: f.tg.url,
    ZADARMA_API_KEY: ZD_KEY,
    ZADARMA_API_SECRET: ZD_SECRET,
    ZADARMA_BASE_URL: f.zd.url,
    ZADARMA_CALLER: ZD_CALLER,
    GATES: GATES_ENV,
    ORG_NAME: 'ЖК Тест',
  };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Where updates go: long polling (the fake queues them) or the service's webhook. */
export type Deliver = (update: Json) => Promise<void>;

/** POSTs an update to the service's Telegram webhook with the secret token it checks. */
export const telegramWebhook = (url: string, secret: string, update: Json): Promise<HttpAnswer> =>
  http(`${url}/telegram/webhook`, { body: update, headers: { 'x-telegram-bot-api-secret-token': secret } });

/** Delivery through the webhook of the service at `url()`, each update answered 200. */
export const webhookDelivery =
  (url: () => string, secret: string): Deliver =>
  async (u) => {
    const res = await telegramWebhook(url(), secret, u);
    if (res.status !== 200) throw new Error(`telegram webhook answered ${res.status}: ${res.text}`);
  };

export interface Rig extends Fakes {
  svc: TestService;
  clock: TestClock;
  url: string;
  deliver: Deliver;
  user(userId: number, firstName?: string): TgUser;
  /** The service's `calls` records, oldest first. */
  calls(): CallDoc[];
  /** Which call holds the gate (null when free). */
  pendingOf(gate: string): string | null;
  /** Requests the fake Zadarma saw on the callback endpoint (answered or not). */
  callbackRequests(): number;
  stop(): Promise<void>;
}

/** Fakes + the real service in this process. */
export async function startRig(
  extra: Record<string, string | undefined> = {},
  opts: { dataDir?: string } = {},
): Promise<Rig> {
  const f = await startFakes();
  const clock = new TestClock();
  const env = gateEnv(f, extra);
  let svc: TestService;
  try {
    svc = await startTestService(env, { clock: clock.now, dataDir: opts.dataDir ?? tmpDataDir() });
  } catch (e) {
    await f.close();
    throw e;
  }
  const webhook = env.TELEGRAM_MODE === 'webhook';
  const deliver: Deliver = webhook
    ? webhookDelivery(() => svc.url, env.TELEGRAM_WEBHOOK_SECRET ?? '')
    : async (u) => {
        f.tg.pushUpdate(u);
      };
  const rig: Rig = {
    ...f,
    svc,
    clock,
    url: svc.url,
    deliver,
    user: (userId, firstName) => new TgUser(f.tg, deliver, userId, firstName),
    calls: () =>
      svc.store
        .all<CallDoc>('calls')
        .slice()
        .sort((a, b) => a.requestedAt - b.requestedAt),
    pendingOf: (gate) => svc.store.get<{ pendingCall: string | null }>('gates', gate)?.pendingCall ?? null,
    callbackRequests: () => f.zd.requests.filter((r) => r.path === CALLBACK_PATH).length,
    stop: async () => {
      try {
        await svc.stop();
      } finally {
        await f.close();
      }
    },
  };
  return rig;
}

/** Fakes + the service as a child process (restarts, SIGKILL). */
export function spawnGate(f: Fakes, dataDir: string, extra: Record<string, string | undefined> = {}) {
  return spawnService({ ...gateEnv(f, extra), DATA_DIR: dataDir });
}

export async function killHard(p: ServiceProcess): Promise<void> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  p.proc.kill('SIGKILL');
  await p.exited;
}

/** One Telegram user in a private chat with the bot. */
export class TgUser {
  constructor(
    readonly tg: FakeTelegram,
    readonly deliver: Deliver,
    readonly id: number,
    readonly firstName = `User${id}`,
  ) {}

  /** Every message the bot sent to this chat (sendMessage / sendPhoto…), in order. */
  messages(): SentItem[] {
    return this.tg.sent().filter((s) => s.chat_id === this.id);
  }

  texts(): string[] {
    return this.messages().map((m) => String(m.text ?? m.caption ?? ''));
  }

  /** Delivers an update and waits for the next `n` messages to this chat; returns the first. */
  async send(update: Json, n = 1): Promise<SentItem> {
    const before = this.messages().length;
    await this.deliver(update);
    await this.tg.waitFor((s) => s.filter((m) => m.chat_id === this.id).length >= before + n, 5000);
    return this.messages()[before] as SentItem;
  }

  command(text: string): Promise<SentItem> {
    return this.send(commandUpdate({ userId: this.id, firstName: this.firstName, text }));
  }

  contact(phone: string, contactUserId?: number | null): Promise<SentItem> {
    return this.send(
      contactUpdate({
        userId: this.id,
        firstName: this.firstName,
        phone,
        ...(contactUserId !== undefined ? { contactUserId } : {}),
      }),
    );
  }

  tap(data: string, id?: string): Promise<SentItem> {
    return this.send(tapUpdate({ userId: this.id, firstName: this.firstName, data, ...(id ? { id } : {}) }));
  }

  /** Waits until a message to this chat (from index `from` on) matches; returns it. */
  async waitText(re: RegExp, from = 0, timeoutMs = 5000): Promise<SentItem> {
    await this.tg.waitFor(
      (s) => s.filter((m) => m.chat_id === this.id).some((m, i) => i >= from && re.test(String(m.text))),
      timeoutMs,
    );
    return this.messages().find((m, i) => i >= from && re.test(String(m.text))) as SentItem;
  }

  /** How many messages to this chat match. */
  count(re: RegExp): number {
    return this.texts().filter((t) => re.test(t)).length;
  }
}

/** POSTs a Zadarma notification, signed with `secret` (or with the given / no Signature header). */
export async function zadarmaWebhook(
  url: string,
  fields: ZadarmaFields,
  opts: { secret?: string; signature?: string | null } = {},
): Promise<HttpAnswer> {
  const post = zadarmaPoster(url, opts.secret ?? ZD_SECRET);
  if (opts.signature === undefined) return post(fields);
  return post(fields, opts.signature === null ? { secret: null } : { signature: opts.signature });
}

/** Posts and insists on 200. */
export async function zadarmaOk(url: string, fields: ZadarmaFields): Promise<void> {
  const res = await zadarmaWebhook(url, fields);
  if (res.status !== 200) throw new Error(`zadarma webhook answered ${res.status}: ${res.text}`);
}

export const INITIATED = {
  hvirtka: /^Відкриття хвіртки ініційовано/,
  vorota: /^Відкриття воріт ініційовано/,
};

/**
 * A user opens a gate (command or button) and the call gets as far as "initiated": waits for the
 * fake Zadarma to accept one more callback and for the "ініційовано" message.
 */
export async function openGate(
  user: TgUser,
  zd: FakeZadarma,
  gate: 'hvirtka' | 'vorota',
  how: 'command' | 'button' = 'command',
): Promise<{ keys: SentItem; initiated: SentItem }> {
  const callbacks = zd.callbacks().length;
  const from = user.messages().length;
  const keys = how === 'command' ? await user.command(`/${gate}`) : await user.tap(`gate:${gate}`);
  await zd.waitFor((c) => c.length >= callbacks + 1, 5000);
  const initiated = await user.waitText(INITIATED[gate], from);
  return { keys, initiated };
}

/**
 * A whole gate call: the user opens, Zadarma reports the relay leg's START and END (signed); resolves
 * with the message the END produced.
 */
export async function runCall(
  rig: Rig,
  user: TgUser,
  gate: 'hvirtka' | 'vorota',
  disposition: string,
  duration: number,
): Promise<SentItem> {
  await openGate(user, rig.zd, gate);
  const leg = incomingCall({ caller_id: RELAY[gate] });
  await zadarmaOk(rig.url, leg.start());
  const from = user.messages().length;
  await zadarmaOk(rig.url, leg.end({ disposition, duration }));
  await rig.tg.waitFor((s) => s.filter((m) => m.chat_id === user.id).length > from, 5000);
  return user.messages()[from] as SentItem;
}

/** Polls until `check` holds (re-exported for the test files). */
export { eventually };
