import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LowdbStore } from '../storage/lowdb';
import type { Store } from '../storage/store';
import { createApp } from './app';
import { whatsappChannel } from './channels/whatsapp/wiring';
import type { Config } from './config';
import { Engine } from './engine';
import type { Access } from './gate/access';
import { gateChannel } from './gate/wiring';
import type { Logger } from './log';
import { Outbox } from './outbox';
import { healthRoutes } from './routes/health';
import { Sweeper } from './sweeper';
import { VERSION } from './version';

export interface Service {
  url: string;
  engine: Engine;
  outbox: Outbox;
  store: Store;
  access: Access;
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

  const channelDeps = { log, clock, print: opts.print };
  const whatsapp = whatsappChannel(config, channelDeps);
  const gate = gateChannel(config, channelDeps);
  let outbox: Outbox | undefined;
  const engine = new Engine({
    store,
    bindings: [...whatsapp.bindings, ...gate.bindings],
    log,
    clock,
    onEffects: (effects) => outbox?.enqueue(effects),
  });
  const wa = whatsapp.attach(engine);
  const gates = gate.attach(engine);
  const retry = {
    baseDelayMs: config.tuning.retryBaseMs,
    maxDelayMs: config.tuning.retryMaxMs,
    maxAttempts: config.tuning.retryMaxAttempts,
  };
  outbox = new Outbox(engine, { ...wa.runners, ...gates.runners }, log, retry, clock);
  const sweeper = new Sweeper(engine, log, config.tuning.sweepIntervalMs, clock);

  const channels = {
    whatsapp: config.whatsapp.mode,
    telegram: config.telegram.mode,
    zadarma: config.zadarma.mode,
  };
  const routers = [
    healthRoutes({ store, outbox, version: VERSION, startedAt: Date.now(), channels }),
    ...wa.routers,
    ...gates.routers,
  ];
  const app = createApp({ routers, log });
  const server: Server = createServer(app.callback());
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  outbox.start();
  sweeper.start();
  await gates.start();
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // Refuse new connections; requests already inside finish their commit and get their answer.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await gates.stop();
      await closed;
      await sweeper.stop();
      await outbox?.drain();
      await store.close();
    })();
    return stopping;
  };
  return { url, engine, outbox, store, access: gates.access, stop };
}
