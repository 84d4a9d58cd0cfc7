/**
 * The whole deployment in this process, every channel live against the fakes and every secret set
 * (WhatsApp with WEBHOOK_SECRET_HEADER, Telegram in webhook mode, signed Zadarma webhooks, ADMIN_TOKEN),
 * logging through the production logger; every log line and every answer body is kept so the suite
 * can look for the configured secrets in them.
 */
import { signed, type ZadarmaFields } from '../../fixtures/zadarma';
import { WEBHOOK_SIGNATURE_HEADER } from '../../server/channels/zadarma/sign';
import { readConfig, secretsOf } from '../../server/config/config';
import { createLogger } from '../../server/lib/log';
import { type Service, startService } from '../../server/service';
import { type FakeD360, startFakeD360 } from '../fakes/d360';
import { type Fakes, gateEnv, startFakes, TestClock } from '../helpers/gate-harness';
import { type HttpAnswer, http, testEnv, tmpDataDir } from '../helpers/service';

export const SECRETS = {
  D360_API_KEY: 'torture-d360-key-5f1c0a',
  WEBHOOK_SECRET_HEADER: 'X-Torture-Secret=hdr-secret-77a1b9',
  ADMIN_TOKEN: 'admin-token-torture-91c3e2',
  TELEGRAM_WEBHOOK_SECRET: 'tg-webhook-secret-4d2f88',
  VERIFY_TOKEN: 'verify-token-torture-0b7e',
};
export const HEADER = { name: 'X-Torture-Secret', value: 'hdr-secret-77a1b9' };
export const TG_SECRET_HEADER = 'x-telegram-bot-api-secret-token';

export interface TortureRig extends Fakes {
  d360: FakeD360;
  svc: Service;
  url: string;
  dataDir: string;
  clock: TestClock;
  logs: string[];
  /** Every answer body seen through `call` (error pages included). */
  bodies: string[];
  secrets: string[];
  call(path: string, init?: Parameters<typeof http>[1]): Promise<HttpAnswer>;
  /** POST a WhatsApp webhook with the secret header. */
  postWa(body: unknown): Promise<HttpAnswer>;
  postTg(update: unknown): Promise<HttpAnswer>;
  postZd(fields: ZadarmaFields, signature?: string | null): Promise<HttpAnswer>;
  /** The configured secret values found in logs or answer bodies (must stay empty). */
  leaks(): string[];
  stop(): Promise<void>;
}

export async function startTortureRig(extra: Record<string, string | undefined> = {}): Promise<TortureRig> {
  const f = await startFakes();
  // Private chats of the users the suite plays (the fake refuses sends to a chat it never saw).
  for (const id of [1001, 1002, 1003, 666, 667]) f.tg.addChat(id);
  const d360 = await startFakeD360({ apiKey: SECRETS.D360_API_KEY });
  const dataDir = tmpDataDir();
  const clock = new TestClock();
  const env = {
    ...gateEnv(f),
    ...SECRETS,
    D360_BASE_URL: d360.url,
    TELEGRAM_MODE: 'webhook',
    TELEGRAM_ALLOWED_USERS: '1001,1002,1003',
    DATA_DIR: dataDir,
    ...extra,
  };
  const config = readConfig(testEnv(env));
  const secrets = secretsOf(config);
  const logs: string[] = [];
  const log = createLogger({ write: (l) => logs.push(l), secrets });
  // Strictly increasing, so the `at` of dedupe records tells the order in which events took their lock.
  let last = 0;
  const monotonic = () => {
    last = Math.max(clock.now(), last + 1);
    return last;
  };
  const svc = await startService(config, log, { print: () => undefined, clock: monotonic });
  const bodies: string[] = [];
  const call = async (path: string, init: Parameters<typeof http>[1] = {}) => {
    const res = await http(`${svc.url}${path}`, init);
    bodies.push(res.text);
    return res;
  };
  return {
    ...f,
    d360,
    svc,
    url: svc.url,
    dataDir,
    clock,
    logs,
    bodies,
    secrets,
    call,
    postWa: (body) => call('/webhook', { body, headers: { [HEADER.name]: HEADER.value } }),
    postTg: (update) =>
      call('/telegram/webhook', {
        body: update,
        headers: { [TG_SECRET_HEADER]: SECRETS.TELEGRAM_WEBHOOK_SECRET },
      }),
    postZd: (fields, signature) => {
      const s = signed(fields, config.zadarma.apiSecret ?? '');
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (signature === undefined) headers[WEBHOOK_SIGNATURE_HEADER] = s.signature;
      else if (signature !== null) headers[WEBHOOK_SIGNATURE_HEADER] = signature;
      return call('/zadarma/webhook', { method: 'POST', raw: s.body, headers });
    },
    leaks: () => {
      const found: string[] = [];
      for (const s of secrets) {
        if (logs.some((l) => l.includes(s))) found.push(`log line contains ${s.slice(0, 3)}…`);
        if (bodies.some((b) => b.includes(s))) found.push(`answer body contains ${s.slice(0, 3)}…`);
      }
      return found;
    },
    stop: async () => {
      try {
        await svc.stop();
      } finally {
        await f.close();
        await d360.close();
      }
    },
  };
}
