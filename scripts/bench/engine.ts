/**
 * The engine alone, in this process (no HTTP, no outbox): WhatsApp webhooks parsed and dispatched with
 * 64 in flight over 2,000 users into a LowdbStore of P partitions. Shows the per-event CPU of
 * dedupe + lock + restore + step + commit, apart from Koa and the sends.
 *   P=256 FS=on npx tsx scripts/bench/engine.ts   (add `node --cpu-prof` through NODE_OPTIONS to profile)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buttonReply, textMessage } from '../../fixtures/whatsapp';
import { dispatchWebhook, whatsappBinding } from '../../server/channels/whatsapp/channel';
import { parseWebhook } from '../../server/channels/whatsapp/inbound';
import { Engine } from '../../server/engine/engine';
import { LowdbStore } from '../../storage/lowdb';

const fsync = process.env.FS !== 'off';
const P = Number(process.env.P ?? 256);
const store = new LowdbStore(mkdtempSync(join(tmpdir(), 'eng-')), P, { fsync });
await store.open();
const log = { info() {}, warn() {}, error() {} };
const engine = new Engine({ store, bindings: [whatsappBinding()], log });
const users = 2000,
  N = 8000,
  C = 64;
const bodies: Array<Record<string, unknown>> = Array.from({ length: N }, (_, i) => {
  const from = `7900${String(i % users).padStart(7, '0')}`;
  return i % 2 ? buttonReply({ from, buttonId: 'MY_STATUS' }) : textMessage({ from, body: 'меню' });
});
let next = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await Promise.all(
  Array.from({ length: C }, async () => {
    while (next < N) {
      const b = bodies[next++] as Record<string, unknown>;
      await dispatchWebhook(engine, parseWebhook(JSON.parse(JSON.stringify(b))), {
        timezone: 'Europe/Moscow',
        log,
      });
    }
  }),
);
const dt = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(
  `P=${P} fsync=${fsync}: ${(N / (dt / 1000)).toFixed(0)} ev/s, main+threads CPU ${(((cpu.user + cpu.system) / 1000 / dt) * 100).toFixed(0)} %, ${((cpu.user + cpu.system) / 1000 / N).toFixed(3)} ms CPU/event`,
);
