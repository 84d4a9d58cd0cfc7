/**
 * `npm run webhooks -- set [--public-url https://bot.example.com]`: registers the webhook URLs of every
 * live channel where the platform has an API for it, then prints the steps left to do by hand.
 * `npm run webhooks -- show`: what each platform has registered now. `--env-file FILE` reads settings.
 */
import { ConfigError, readConfig } from '../server/config/config';
import { parsePublicUrl } from '../server/lib/public-url';
import { type CheckResult, formatCheck } from '../server/ops/check';
import { defineCli, die, failUsage, opt, startCli } from '../server/ops/cli';
import { manualSteps, setWebhooks, showWebhooks } from '../server/ops/webhooks';

const CLI = defineCli({
  name: 'webhooks',
  purpose: 'registers the webhook URLs of every live channel, or shows what each platform has now',
  usage: ['set [--public-url URL]', 'show'],
  commands: {
    set: 'register the webhooks where the platform has an API for it; print the steps left by hand',
    show: 'print what each platform has registered now (secret values as ***)',
  },
  options: {
    'public-url': opt.value('URL', 'set: the https origin the platforms call; default $PUBLIC_URL'),
  },
  examples: ['set --public-url https://bot.example.com', 'show --env-file /etc/switchboard/env'],
});

async function main(): Promise<void> {
  const { values, positionals } = startCli(CLI);
  const command = positionals[0];
  const raw = values['public-url'];
  let config: ReturnType<typeof readConfig>;
  try {
    config = readConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) die(`cannot read the settings: ${e.message}`);
    throw e;
  }
  let results: CheckResult[];
  if (command === 'show') {
    if (raw !== undefined) failUsage(CLI, 'show takes no --public-url');
    results = await showWebhooks(config);
    print(results);
  } else {
    const parsed =
      raw !== undefined ? parsePublicUrl(raw) : config.publicUrl ? { url: config.publicUrl } : undefined;
    if (!parsed)
      failUsage(CLI, 'give the public URL: --public-url https://bot.example.com (or set PUBLIC_URL)');
    if ('error' in parsed) failUsage(CLI, `refusing the public URL: it ${parsed.error}`);
    results = await setWebhooks(config, parsed.url);
    print(results);
    process.stdout.write('\nBy hand:\n');
    for (const step of manualSteps(config, parsed.url)) process.stdout.write(`  - ${step}\n`);
    if (config.publicUrl && config.publicUrl !== parsed.url)
      process.stdout.write(
        `\nNote: PUBLIC_URL is ${config.publicUrl}; set it to ${parsed.url} so doctor checks this one.\n`,
      );
  }
  process.exitCode = results.some((r) => !r.ok) ? 1 : 0;
}

function print(results: CheckResult[]): void {
  for (const r of results) process.stdout.write(`${formatCheck(r)}\n`);
}

void main();
