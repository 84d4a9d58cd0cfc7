import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LowdbStore } from '../storage/lowdb';
import type { Store } from '../storage/store';
import { createApp } from './app';
import { WHATSAPP_CHANNEL, whatsappBinding, whatsappRunner } from './channels/whatsapp/channel';
import { sendD360 } from './channels/whatsapp/d360-client';
import { dryRunD360 } from './channels/whatsapp/dry-run';
import type { Config } from './config';
import { Engine } from './engine';
import type { EffectRunner } from './engine-types';
import type { Logger } from './log';
import { Outbox } from './outbox';
import { healthRoutes } from './routes/health';
import { whatsappRoutes } from './routes/whatsapp';
import { Sweeper } from './sweeper';
import { VERSION } from './version';

export interface Service {
  url: string;
  engine: Engine;
  outbox: Outbox;
  store: Store;
  /** Stops listening, lets in-flight requests and outbox sends finish, flushes the store. */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Where dry-run channels print (stdout by default). */
  print?: (t: string) => void;
  /** The clock (tests move it to expire dialogs). */
  clock?: () => number;
}

/** The composition root: config → store → engine → channels → HTTP listener. */
export async function startService(config: Config, log: Logger, opts: ServiceOptions = {}): Promise<Service> {
  const clock = opts.clock ?? Date.now;
  const store = new LowdbStore(config.dataDir);
  await store.open();

  const bindings = [whatsappBinding()];
  let outbox: Outbox | undefined;
  const engine = new Engine({
    store,
    bindings,
    log,
    clock,
    onEffects: (effects) => outbox?.enqueue(effects),
  });

  const runners: Record<string, EffectRunner> = {};
  const channels: Record<string, string> = { whatsapp: config.whatsapp.mode };
  if (config.whatsapp.mode !== 'off') {
    const { apiKey, baseUrl } = config.whatsapp;
    const send =
      config.whatsapp.mode === 'live' && apiKey
        ? (body: Record<string, unknown>) => sendD360(baseUrl, apiKey, body)
        : dryRunD360(opts.print);
    runners[WHATSAPP_CHANNEL] = whatsappRunner({ engine, send, log, clock });
  }
  outbox = new Outbox(
    engine,
    runners,
    log,
    {
      baseDelayMs: config.tuning.retryBaseMs,
      maxDelayMs: config.tuning.retryMaxMs,
      maxAttempts: config.tuning.retryMaxAttempts,
    },
    clock,
  );
  const sweeper = new Sweeper(engine, log, config.tuning.sweepIntervalMs, clock);

  const routers = [healthRoutes({ store, outbox, version: VERSION, startedAt: Date.now(), channels })];
  if (config.whatsapp.mode !== 'off') {
    routers.push(whatsappRoutes({ engine, config: config.whatsapp, timezone: config.timezone, log }));
  }
  const app = createApp({ routers, log });
  const server: Server = createServer(app.callback());
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  outbox.start();
  sweeper.start();
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // Refuse new connections; requests already inside finish their commit and get their answer.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await sweeper.stop();
      await outbox?.drain();
      await store.close();
    })();
    return stopping;
  };
  return { url, engine, outbox, store, stop };
}
