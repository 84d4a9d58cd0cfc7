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
  });
  if (config.whatsapp.mode === 'dry')
    log.info('whatsapp: no D360_API_KEY, running dry: replies are printed, not sent');
  if (config.whatsapp.mode === 'off') log.info('whatsapp: channel off (no D360_API_KEY / VERIFY_TOKEN)');

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
