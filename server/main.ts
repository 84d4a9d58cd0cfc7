import { StoreError } from '../storage/store';
import { ConfigError, loadDotEnv, readConfig, secretsOf } from './config';
import { createLogger } from './log';
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
  let service: Awaited<ReturnType<typeof startService>>;
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
  for (const line of channelNotes(config)) log.info(line);

  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) process.exit(1);
    log.info('stopping', { signal });
    service.stop().then(
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
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();

/** One line per channel that is not live, so the operator knows what runs and what does not. */
function channelNotes(config: ReturnType<typeof readConfig>): string[] {
  const notes: string[] = [];
  const say = (name: string, mode: string, settings: string) => {
    if (mode === 'dry') notes.push(`${name}: no ${settings}, running dry: what it would send is printed`);
    if (mode === 'off') notes.push(`${name}: channel off (none of ${settings} is set)`);
  };
  say('whatsapp', config.whatsapp.mode, 'D360_API_KEY / VERIFY_TOKEN');
  say('telegram', config.telegram.mode, 'TELEGRAM_BOT_TOKEN');
  say('zadarma', config.zadarma.mode, 'ZADARMA_API_KEY / ZADARMA_API_SECRET / ZADARMA_CALLER / GATES');
  notes.push(
    config.adminToken
      ? 'admin pages: /inspect (machines and live actors) and /admin/attendance, with ADMIN_TOKEN'
      : 'admin pages (/inspect, /admin/attendance) off: ADMIN_TOKEN is not set',
  );
  if (config.telegram.mode === 'dry')
    notes.push('telegram: updates are taken at POST /telegram/webhook (npm run simulate -- tg "/start")');
  return notes;
}
