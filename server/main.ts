import { StoreError } from '../storage/store';
import { ConfigError, loadDotEnv, readConfig, secretsOf } from './config/config';
import { inspectorOpen } from './inspect/open-mode';
import { createLogger } from './lib/log';
import { startService } from './service';

/** `npm start`: read settings, start the service, stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  loadDotEnv();
  let config: ReturnType<typeof readConfig>;
  try {
    config = readConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`switchboard: cannot start, ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger({ secrets: secretsOf(config) });
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  // Handlers first: a signal during start-up waits for the start to finish, then stops cleanly (so
  // the data folder's lock is released, never left behind by an abrupt exit).
  let signals = 0;
  let stopRequested: string | undefined;
  const stop = (signal: string) => {
    log.info('stopping', { signal });
    (service as NonNullable<typeof service>).stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (e) => {
        log.error('stop failed', { error: (e as Error).message });
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: string) => {
    signals++;
    if (signals > 1) process.exit(1);
    if (service) stop(signal);
    else stopRequested = signal;
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  try {
    service = await startService(config, log);
  } catch (e) {
    if (
      e instanceof StoreError ||
      (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ||
      (e as NodeJS.ErrnoException).code === 'EACCES'
    ) {
      log.error(`cannot start: ${(e as Error).message}`);
      process.exit(1);
    }
    throw e;
  }
  log.info('switchboard started', {
    url: service.url,
    mode: config.mode,
    dataDir: config.dataDir,
    timezone: config.timezone,
    whatsapp: config.whatsapp.mode,
    telegram: config.telegram.mode,
    zadarma: config.zadarma.mode,
  });
  for (const line of channelNotes(config, service.url)) log.info(line);
  if (stopRequested) stop(stopRequested);
}

void main();

/** One line per channel that is not live, so the operator knows what runs and what does not. */
function channelNotes(config: ReturnType<typeof readConfig>, url: string): string[] {
  const notes: string[] = [];
  const say = (name: string, mode: string, settings: string) => {
    if (mode === 'dry') notes.push(`${name}: no ${settings}, running dry: what it would send is printed`);
    if (mode === 'off') notes.push(`${name}: channel off (none of ${settings} is set)`);
  };
  say('whatsapp', config.whatsapp.mode, 'D360_API_KEY / VERIFY_TOKEN');
  say('telegram', config.telegram.mode, 'TELEGRAM_BOT_TOKEN');
  say('zadarma', config.zadarma.mode, 'ZADARMA_API_KEY / ZADARMA_API_SECRET / ZADARMA_CALLER / GATES');
  if (inspectorOpen(config))
    notes.push(
      `inspector: ${url}/inspect (open without a token: dev mode, every channel dry, loopback only)`,
    );
  notes.push(
    config.adminToken
      ? `admin pages: sign in at ${url}/admin/login (ADMIN_TOKEN) for /inspect and /admin/attendance`
      : inspectorOpen(config)
        ? 'attendance pages (/admin/attendance) off: ADMIN_TOKEN is not set'
        : 'admin pages (/inspect, /admin/attendance) off: ADMIN_TOKEN is not set',
  );
  if (config.telegram.mode === 'dry')
    notes.push('telegram: updates are taken at POST /telegram/webhook (npm run simulate -- tg "/start")');
  return notes;
}
