import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LowdbStore } from '../storage/lowdb';
import { acquireLock, describeHolder } from '../storage/service-lock';
import type { Store } from '../storage/store';
import type { Config } from './config/config';
import { Engine } from './engine/engine';
import { Ticker } from './engine/jobs';
import { Outbox } from './engine/outbox';
import { Sweeper } from './engine/sweeper';
import type { Access } from './gate/access';
import { createApp } from './http/app';
import { adminLoginRoutes } from './http/routes/admin-login';
import { attendanceRoutes } from './http/routes/attendance';
import { healthRoutes } from './http/routes/health';
import { inspectRoutes } from './http/routes/inspect';
import { inspectorOpen } from './inspect/open-mode';
import type { Logger } from './lib/log';
import { VERSION } from './lib/version';
import { adminAlerts } from './wiring/alerts';
import { gateChannel } from './wiring/gate';
import { whatsappChannel } from './wiring/whatsapp';

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
  // Held while running: a second service or a restore on this DATA_DIR is refused (storage/service-lock.ts).
  const lock = acquireLock(config.dataDir, 'service');
  if (lock.tookOver)
    log.warn('store: took over a stale lock', {
      file: lock.file,
      was: describeHolder(lock.tookOver.info),
      why: lock.tookOver.why,
    });
  const store = new LowdbStore(config.dataDir, config.store.partitions, {
    fsync: config.store.fsync,
    maxLogBytes: config.store.checkpointBytes,
  });
  await store.open().catch((e) => {
    lock.release();
    throw e;
  });

  let refused: ((route: string) => void) | undefined;
  const channelDeps = { log, clock, print: opts.print, onRefused: (route: string) => refused?.(route) };
  const whatsapp = whatsappChannel(config, channelDeps);
  const gate = gateChannel(config, channelDeps);
  const alerts = adminAlerts(config, { log, clock });
  let outbox: Outbox | undefined;
  const engine = new Engine({
    store,
    bindings: [...whatsapp.bindings, ...gate.bindings, ...alerts.bindings],
    log,
    clock,
    onEffects: (effects) => outbox?.enqueue(effects),
    onDeadLetter: (effect, error) => alerts.onDeadLetter(effect, error),
  });
  const wa = whatsapp.attach(engine);
  const gates = gate.attach(engine);
  const watch = alerts.attach(engine);
  refused = watch.refused;
  const retry = {
    baseDelayMs: config.tuning.retryBaseMs,
    maxDelayMs: config.tuning.retryMaxMs,
    maxAttempts: config.tuning.retryMaxAttempts,
  };
  outbox = new Outbox(engine, { ...wa.runners, ...gates.runners, ...watch.runners }, log, retry, clock);
  // Shift reminders, the balance check, batched refused-webhook counts.
  const ticker = new Ticker(
    [new Sweeper(engine, log), ...wa.jobs, ...watch.jobs],
    log,
    config.tuning.sweepIntervalMs,
    clock,
  );

  const channels = {
    whatsapp: config.whatsapp.mode,
    telegram: config.telegram.mode,
    zadarma: config.zadarma.mode,
  };
  let selfUrl = '';
  // Admin pages exist only with ADMIN_TOKEN set (otherwise 404); the inspector also when it is open
  // (a dry development run on loopback), and only then its playground. Attendance carries personal
  // data: always behind the token.
  const adminToken = config.adminToken;
  const open = inspectorOpen(config);
  const admin = [
    ...(adminToken || open
      ? [
          inspectRoutes({
            store,
            adminToken,
            open,
            clock,
            ...(open ? { playground: { engine, config, selfUrl: () => selfUrl } } : {}),
          }),
        ]
      : []),
    ...(adminToken
      ? [
          adminLoginRoutes({ adminToken, clock, log, onRefused: channelDeps.onRefused }),
          attendanceRoutes({ store, adminToken, timezone: config.timezone, clock }),
        ]
      : []),
  ];
  const routers = [
    healthRoutes({ store, outbox, version: VERSION, startedAt: Date.now(), channels }),
    ...wa.routers,
    ...gates.routers,
    ...admin,
  ];
  const app = createApp({ routers, log });
  const server: Server = createServer(app.callback());
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  }).catch(async (e) => {
    await store.close();
    lock.release();
    throw e;
  });
  outbox.start();
  ticker.start();
  await gates.start();
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`;
  selfUrl = url;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // Refuse new connections; requests already inside finish their commit and get their answer.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await gates.stop();
      await closed;
      await ticker.stop();
      await outbox?.drain();
      await store.close();
      lock.release();
    })();
    return stopping;
  };
  return { url, engine, outbox, store, access: gates.access, stop };
}
