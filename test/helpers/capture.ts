/**
 * Captures of earlier releases (fixtures/stores/, fixtures/snapshots/): the fake 360dialog, Telegram
 * (webhook mode) and Zadarma keyed by a capture's settings, which the capture scripts
 * (scripts/capture-*.ts) run their service against, and the CURRENT service started on what they
 * captured, with those settings and the capture's clock, for the upgrade tests.
 */
import * as assert from 'uvu/assert';
import { commandUpdate, type Update } from '../../fixtures/telegram';
import { outgoingCall } from '../../fixtures/zadarma';
import type { ActorRecord } from '../../server/engine/types';
import { type FakeD360, startFakeD360 } from '../fakes/d360';
import { type FakeTelegram, type SentItem, startFakeTelegram } from '../fakes/telegram';
import { type FakeZadarma, startFakeZadarma } from '../fakes/zadarma';
import { type Deliver, TestClock, type TgUser, telegramWebhook, webhookDelivery } from './gate-harness';
import { zadarmaPoster } from './ivr-zadarma';
import { type HttpAnswer, startTestService, type TestService } from './service';

/** A capture's settings (its MANIFEST.json `env`): the fakes check the keys and tokens in it. */
type CaptureEnv = Readonly<Record<string, string>>;

export interface CaptureFakes {
  d360: FakeD360;
  tg: FakeTelegram;
  zd: FakeZadarma;
  /** The settings that point the service at them. */
  origins: { D360_BASE_URL: string; TELEGRAM_API_ROOT: string; ZADARMA_BASE_URL: string };
  close(): Promise<void>;
}

const THIS_CHECKOUT = { startFakeD360, startFakeTelegram, startFakeZadarma };

/**
 * The fakes for the settings `env`. `chats` are the Telegram users the bot writes to: in webhook mode
 * the fake learns no chat from updates. scripts/capture-snapshots.ts passes the fakes of the checkout
 * it captures.
 */
export async function startCaptureFakes(
  env: CaptureEnv,
  chats: number[],
  fakes: typeof THIS_CHECKOUT = THIS_CHECKOUT,
): Promise<CaptureFakes> {
  const d360 = await fakes.startFakeD360({ apiKey: env.D360_API_KEY as string });
  const tg = await fakes.startFakeTelegram({ token: env.TELEGRAM_BOT_TOKEN as string });
  const zd = await fakes.startFakeZadarma({
    key: env.ZADARMA_API_KEY as string,
    secret: env.ZADARMA_API_SECRET as string,
  });
  for (const id of chats) tg.addChat(id);
  return {
    d360,
    tg,
    zd,
    origins: { D360_BASE_URL: d360.url, TELEGRAM_API_ROOT: tg.url, ZADARMA_BASE_URL: zd.url },
    close: async () => {
      await d360.close();
      await tg.close();
      await zd.close();
    },
  };
}

/** What the tests read of a capture's MANIFEST.json. */
export interface Capture {
  env: CaptureEnv;
  /** Its moment: times in the store are absolute, so the service's clock starts here and runs on. */
  capturedAt: number;
  /** The capture's last Telegram update id: later updates must be above it (deduplicated on update_id). */
  telegram: { lastUpdateId: number };
}

export interface OnCapture extends CaptureFakes {
  svc: TestService;
  clock: TestClock;
  /** Updates through the Telegram webhook, each answered 200 (for TgUser). */
  deliver: Deliver;
  /** One update through the Telegram webhook, whatever the answer. */
  postUpdate(update: Update): Promise<HttpAnswer>;
  /** A signed Zadarma webhook. */
  post: ReturnType<typeof zadarmaPoster>;
  /** The next Telegram update id, after the capture's. */
  nextUpdateId(): number;
  /** `user` sends a command (update ids continue after the capture's). */
  command(user: TgUser, text: string): Promise<SentItem>;
  /** The relay leg of a call ends as a relay ends it: it rang, then rejected the call. */
  relayRejects(relay: string): Promise<void>;
  actor(key: string): ActorRecord;
  gateHeldBy(gate: string): string | null | undefined;
  stop(): Promise<void>;
}

/** The current service on `dataDir` (what a capture left) with the capture's settings and clock. */
export async function startOnCapture(
  capture: Capture,
  dataDir: string,
  opts: { chats: number[]; env?: Record<string, string> },
): Promise<OnCapture> {
  const fakes = await startCaptureFakes(capture.env, opts.chats);
  const clock = new TestClock();
  clock.offset = capture.capturedAt - Date.now();
  let svc: TestService;
  try {
    svc = await startTestService(
      { ...capture.env, ...opts.env, ...fakes.origins },
      { clock: clock.now, dataDir },
    );
  } catch (e) {
    await fakes.close();
    throw e;
  }
  const secret = capture.env.TELEGRAM_WEBHOOK_SECRET as string;
  const post = zadarmaPoster(svc.url, capture.env.ZADARMA_API_SECRET as string);
  let updateId = capture.telegram.lastUpdateId;
  const nextUpdateId = () => ++updateId;
  return {
    ...fakes,
    svc,
    clock,
    deliver: webhookDelivery(() => svc.url, secret),
    postUpdate: (update) => telegramWebhook(svc.url, secret, update),
    post,
    nextUpdateId,
    command: (user, text) =>
      user.send(
        commandUpdate({ userId: user.id, firstName: user.firstName, text, updateId: nextUpdateId() }),
      ),
    relayRejects: async (relay) => {
      const leg = outgoingCall({ destination: relay });
      assert.is((await post(leg.start())).status, 200);
      assert.is((await post(leg.end({ disposition: 'cancel', duration: 4 }))).status, 200);
    },
    actor: (key) => svc.store.get<ActorRecord>('actors', key) as ActorRecord,
    gateHeldBy: (gate) => svc.store.get<{ pendingCall: string | null }>('gates', gate)?.pendingCall,
    stop: async () => {
      try {
        await svc.stop();
      } finally {
        await fakes.close();
      }
    },
  };
}
