/**
 * Seeds a store with N users for the scale runs of `npm run bench`. One user's real documents are
 * produced by the real service (in this process, WhatsApp dry-run) walking the bench dialog; they are
 * then cloned for every user (wa_id and wamids rewritten) and written straight into the partition
 * files in the store's own format, each user in the partition its actor key hashes to — exactly where
 * the service would have put them.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buttonReply, textMessage } from '../../fixtures/whatsapp';
import { readConfig, SERVICE_PARTITIONS } from '../../server/config/config';
import { createLogger } from '../../server/lib/log';
import { startService } from '../../server/service';
import { partitionFile } from '../../storage/lowdb';
import { userId } from './loadgen';

type Doc = Record<string, unknown>;
interface Template {
  waId: string;
  /** collection -> id -> doc, every document the template user owns */
  docs: Record<string, Record<string, Doc>>;
}

const TEMPLATE_WA = '79990000042';

/** Runs the dialog once for one user on a scratch store and returns what that user left behind. */
export async function makeTemplate(scratch: string): Promise<Template> {
  rmSync(scratch, { recursive: true, force: true });
  const config = readConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    MODE: 'dev',
    APP_TIMEZONE: 'Europe/Moscow',
    DATA_DIR: scratch,
  });
  const svc = await startService(config, createLogger({ write: () => undefined }), {
    print: () => undefined,
  });
  const post = async (body: unknown) => {
    const r = await fetch(`${svc.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (r.status !== 200) throw new Error(`template webhook answered ${r.status}`);
  };
  const from = TEMPLATE_WA;
  await post(textMessage({ from, body: 'меню' }));
  await post(buttonReply({ from, buttonId: 'FILL_TODAY' }));
  await post(buttonReply({ from, buttonId: 'SHIFT_DAY' }));
  await post(buttonReply({ from, buttonId: 'MY_STATUS' }));
  await post(textMessage({ from, body: 'меню' }));
  for (let i = 0; i < 200 && svc.outbox.pending > 0; i++) await new Promise((r) => setTimeout(r, 10));
  await svc.stop();
  const docs: Template['docs'] = {};
  const dir = join(scratch, 'store');
  for (const f of readdirSync(dir)) {
    if (!/^p-\d+\.json$/.test(f)) continue;
    const data = JSON.parse(readFileSync(join(dir, f), 'utf-8')) as { collections: Template['docs'] };
    for (const [name, coll] of Object.entries(data.collections))
      for (const [id, doc] of Object.entries(coll)) {
        docs[name] ??= {};
        (docs[name] as Record<string, Doc>)[id] = doc;
      }
  }
  rmSync(scratch, { recursive: true, force: true });
  return { waId: TEMPLATE_WA, docs };
}

const partitionOf = (key: string, n: number) => createHash('sha1').update(key).digest().readUInt32BE(0) % n;

/** Writes a store holding `users` clones of the template user (users `userId(0..users-1)`). */
export function seedStore(
  dataDir: string,
  users: number,
  template: Template,
  partitions = Number(process.env.STORE_PARTITIONS) || SERVICE_PARTITIONS,
): void {
  const dir = join(dataDir, 'store');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ format: 1, partitions }));
  const parts: Array<Record<string, Record<string, Doc>>> = Array.from({ length: partitions }, () => ({}));
  // Each template doc as text once; per user only string replacement and one parse.
  const texts: Array<{ name: string; text: string }> = [];
  for (const [name, coll] of Object.entries(template.docs))
    for (const [id, doc] of Object.entries(coll)) {
      const text = JSON.stringify([id, doc]);
      // Only the user's own documents (not the service's, like the admin-alerts actor).
      if (text.includes(template.waId)) texts.push({ name, text });
    }
  for (let u = 0; u < users; u++) {
    const wa = userId(u);
    const part = parts[partitionOf(`wa:${wa}`, partitions)] as Record<string, Record<string, Doc>>;
    for (const t of texts) {
      const [id, doc] = JSON.parse(
        t.text.replaceAll(template.waId, wa).replaceAll('wamid.', `wamid.S${u}.`),
      ) as [string, Doc];
      part[t.name] ??= {};
      (part[t.name] as Record<string, Doc>)[id] = doc;
    }
  }
  for (let i = 0; i < partitions; i++) {
    const collections = parts[i] as Record<string, Record<string, Doc>>;
    if (Object.keys(collections).length === 0) continue;
    writeFileSync(join(dir, partitionFile(i)), JSON.stringify({ format: 1, collections }));
  }
}
