/**
 * Property-based fuzzing (fast-check) of every webhook route: hostile JSON (wrong types, missing
 * fields, huge strings, deep nesting, `__proto__`/`constructor` keys), mutations of real payloads,
 * invalid UTF-8, wrong content types and oversized bodies. Never a 5xx, never a crash, an invalid
 * payload never changes the store, and the heap stays flat.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import { commandUpdate, contactUpdate } from '../../fixtures/telegram';
import { buttonReply, statusUpdate, textMessage } from '../../fixtures/whatsapp';
import { formBody, incomingCall, notifyIvr, signed } from '../../fixtures/zadarma';
import { WEBHOOK_SIGNATURE_HEADER } from '../../server/channels/zadarma/sign';
import { RELAY, ZD_SECRET } from '../helpers/gate-harness';
import { type Profile, pick, type Section } from './common';
import { HEADER, SECRETS, startTortureRig, TG_SECRET_HEADER, type TortureRig } from './rig';

// biome-ignore lint/suspicious/noExplicitAny: payloads are hostile by design
type Json = any;

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

interface Case {
  kind: string;
  body: string | Uint8Array;
  contentType: string;
  /** a payload that can never be valid: it must not change the store */
  invalid: boolean;
}

const hostileKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
);
const hugeString = fc.integer({ min: 10_000, max: 200_000 }).map((n) => 'ж'.repeat(n));
const leaf = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '9'.repeat(400), '-1', 'NaN', '1e309'),
);
const hostileJson: fc.Arbitrary<Json> = fc.letrec((tie) => ({
  value: fc.oneof({ maxDepth: 4 }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(fc.oneof(fc.string(), hostileKey), tie('value'), { maxKeys: 6 }),
})).value;

function deep(depth: number, key: string): string {
  return `${`{"${key}":`.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Replaces or deletes one field somewhere in a real payload. */
function mutate(base: Json, pathIndex: number, replacement: Json, del: boolean): Json {
  const copy = JSON.parse(JSON.stringify(base));
  const paths: Array<[Json, string]> = [];
  const walk = (o: Json) => {
    if (o && typeof o === 'object')
      for (const k of Object.keys(o)) {
        paths.push([o, k]);
        walk(o[k]);
      }
  };
  walk(copy);
  const [parent, key] = paths[pathIndex % paths.length] as [Json, string];
  if (del) delete parent[key];
  else parent[key] = replacement;
  return copy;
}

function jsonCase(kind: string, invalid: boolean) {
  return (v: Json): Case => ({
    kind,
    body: JSON.stringify(v) ?? 'null',
    contentType: 'application/json',
    invalid,
  });
}

function casesFor(route: 'wa' | 'tg' | 'zd'): fc.Arbitrary<Case> {
  const bases: Json[] =
    route === 'wa'
      ? [
          textMessage({ from: '79001234567', body: 'меню' }),
          buttonReply({ from: '79001234567', buttonId: 'FILL_TODAY' }),
          statusUpdate({ id: 'wamid.x', status: 'read', recipient: '79001234567' }),
        ]
      : route === 'tg'
        ? [
            commandUpdate({ userId: 1001, text: '/hvirtka' }),
            contactUpdate({ userId: 667, phone: '+380501112233' }),
          ]
        : [];
  const common = [
    fc.record({ bytes: fc.uint8Array({ minLength: 1, maxLength: 300 }) }).map(({ bytes }) => ({
      kind: 'invalid UTF-8 / random bytes',
      body: Uint8Array.from([0xc3, 0x28, 0xff, ...bytes]),
      contentType: route === 'zd' ? 'application/x-www-form-urlencoded' : 'application/json',
      invalid: true,
    })),
    fc.tuple(fc.integer({ min: 100, max: 5000 }), hostileKey).map(([d, k]) => ({
      kind: 'deep nesting',
      body: deep(d, k),
      contentType: 'application/json',
      invalid: true,
    })),
    fc
      .constantFrom(
        'text/plain',
        'application/xml',
        'multipart/form-data; boundary=x',
        'application/JSON; charset=utf-16',
        '',
      )
      .map((ct) => ({
        kind: 'wrong content type',
        body: route === 'zd' ? 'event=NOTIFY_START&pbx_call_id=x' : '{"object":"whatsapp_business_account"}',
        contentType: ct,
        invalid: true,
      })),
    fc.constant(0).map(() => ({
      kind: 'oversized body',
      body: `{"a":"${'x'.repeat(route === 'zd' ? 70_000 : 1_100_000)}"}`,
      contentType: 'application/json',
      invalid: true,
    })),
    hugeString.map((s) => ({
      kind: 'huge string',
      body: JSON.stringify({ entry: s, message: { text: s } }),
      contentType: 'application/json',
      invalid: true,
    })),
  ];
  if (route === 'zd') {
    // Correctly signed forms with hostile fields: the signature passes, the content must still be harmless.
    const field = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      hugeString.map((s) => s.slice(0, 5_000)),
      fc.constantFrom(RELAY.hvirtka, RELAY.vorota, '', '__proto__'),
    );
    const event = fc.constantFrom(
      'NOTIFY_START',
      'NOTIFY_END',
      'NOTIFY_IVR',
      'NOTIFY_OUT_START',
      'NOTIFY_OUT_END',
      'NOTIFY_RECORD',
      'NOTIFY_ANSWER',
      'NOTIFY_INTERNAL',
      '',
      'X',
    );
    const fields = fc.record(
      {
        event,
        pbx_call_id: field,
        caller_id: field,
        called_did: field,
        destination: field,
        disposition: field,
        duration: fc.oneof(field, fc.integer().map(String)),
        __proto__: field,
        constructor: field,
        'wait_dtmf[digits]': field,
      },
      { requiredKeys: [] },
    );
    return fc.oneof(
      {
        weight: 6,
        arbitrary: fields.map((f) => ({
          kind: 'signed hostile form',
          body: signedBody(f),
          contentType: 'application/x-www-form-urlencoded',
          invalid: false,
        })),
      },
      {
        weight: 2,
        arbitrary: hostileJson.map((v) => ({
          kind: 'hostile JSON',
          body: JSON.stringify(v) ?? 'null',
          contentType: 'application/json',
          invalid: false,
        })),
      },
      { weight: 1, arbitrary: fc.oneof(...common) },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(
            incomingCall({ caller_id: RELAY.hvirtka }).end({ disposition: 'cancel', duration: 3 }),
            notifyIvr(),
          )
          .map((f) => ({
            kind: 'real form, JSON content type',
            body: JSON.stringify(f),
            contentType: 'application/json',
            invalid: false,
          })),
      },
    );
  }
  return fc.oneof(
    { weight: 4, arbitrary: hostileJson.map(jsonCase('hostile JSON', true)) },
    {
      weight: 5,
      arbitrary: fc
        .tuple(fc.nat(bases.length - 1), fc.nat(), hostileJson, fc.boolean())
        .map(([b, i, v, del]) => jsonCase('mutated real payload', false)(mutate(bases[b], i, v, del))),
    },
    { weight: 2, arbitrary: fc.oneof(...common) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.nat(bases.length - 1), fc.nat(), fc.integer({ min: 50, max: 6000 }), hostileKey)
        .map(([b, i, d, k]) => ({
          kind: 'deep value inside a real payload',
          body: JSON.stringify(mutate(bases[b], i, '__DEEP__', false)).replace('"__DEEP__"', deep(d, k)),
          contentType: 'application/json',
          invalid: false,
        })),
    },
  );
}

function signedBody(fields: Record<string, string>): string {
  // The signature header travels beside the body: remember it by the body.
  try {
    const s = signed(fields, ZD_SECRET);
    signatures.set(s.body, s.signature);
    return s.body;
  } catch {
    return formBody(fields); // an event Zadarma never signs: it goes without a Signature (401)
  }
}
const signatures = new Map<string, string>();

/** Waits until the outbox has nothing left to do (its settles write to the store too). */
async function quiet(rig: TortureRig): Promise<void> {
  for (let k = 0; k < 500 && rig.svc.outbox.pending > 0; k++) await new Promise((r) => setTimeout(r, 2));
}

function storeShape(rig: TortureRig): string {
  const out: Record<string, number> = {};
  for (const c of ['actors', 'dedupe', 'outbox', 'employees', 'messages', 'calls', 'gates', 'deadletters'])
    out[c] = rig.svc.store
      .all<{ key?: string }>(c)
      .filter((d) => !String(d.key).startsWith('alerts:')).length;
  // (The admin-alerts actor counting refused webhooks, the "someone probing" alert, is meant to change.)
  return JSON.stringify(out);
}

export async function run(profile: Profile): Promise<Section> {
  const started = Date.now();
  const perRoute = pick(profile, 300, 10_000);
  const rig = await startTortureRig({ ZADARMA_API_SECRET: ZD_SECRET });
  const rows: Section['rows'] = [];
  try {
    for (const [route, path] of [
      ['wa', '/webhook'],
      ['tg', '/telegram/webhook'],
      ['zd', '/zadarma/webhook'],
    ] as const) {
      const statuses = new Map<number, number>();
      const kinds = new Map<string, number>();
      let unchanged = 0;
      gc();
      const heapStart = process.memoryUsage().heapUsed;
      let heapMid = 0;
      let i = 0;
      await fc.assert(
        fc.asyncProperty(casesFor(route), async (c) => {
          i++;
          if (i === Math.floor(perRoute / 5)) {
            gc();
            heapMid = process.memoryUsage().heapUsed;
          }
          await quiet(rig);
          const before = storeShape(rig);
          const headers: Record<string, string> = {};
          if (c.contentType) headers['content-type'] = c.contentType;
          if (route === 'wa') headers[HEADER.name] = HEADER.value;
          if (route === 'tg') headers[TG_SECRET_HEADER] = SECRETS.TELEGRAM_WEBHOOK_SECRET;
          if (route === 'zd') {
            const sig = typeof c.body === 'string' ? signatures.get(c.body) : undefined;
            if (sig) headers[WEBHOOK_SIGNATURE_HEADER] = sig;
            else headers[WEBHOOK_SIGNATURE_HEADER] = 'bm90LXNpZ25lZA==';
          }
          let res: Response;
          let text: string;
          try {
            res = await fetch(`${rig.url}${path}`, { method: 'POST', headers, body: c.body });
            text = await res.text();
          } catch (e) {
            const cause = (e as { cause?: Error }).cause;
            process.stderr.write(
              `fetch failed for ${c.kind} (${c.body.length} bytes): ${(e as Error).message} ${cause?.message ?? ''}\n`,
            );
            throw e;
          }
          rig.bodies.push(text);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
          if (res.status >= 500) {
            const why = rig.logs.filter((l) => / error /.test(l)).slice(-1)[0] ?? '';
            process.stderr.write(`${res.status} for ${c.kind} on ${path}: ${why.slice(0, 300)}\n`);
            throw new Error(`${res.status} for ${c.kind}: ${text} (${why.slice(0, 300)})`);
          }
          if (c.invalid || res.status >= 400) {
            await quiet(rig);
            const after = storeShape(rig);
            if (after !== before) {
              const e = new Error(
                `an invalid ${c.kind} changed the store (${res.status}): ${before} → ${after}`,
              );
              process.stderr.write(`${e.message}\n`);
              throw e;
            }
            unchanged++;
          }
        }),
        { numRuns: perRoute, endOnFailure: true, verbose: 1 },
      );
      signatures.clear();
      gc();
      const heapEnd = process.memoryUsage().heapUsed;
      const growthMb = (heapEnd - Math.max(heapMid, heapStart)) / 1e6;
      // Flat: what the store legitimately keeps (mutated payloads that were valid) aside, a few MB at most.
      assert.ok(growthMb < 40, `heap grew ${growthMb.toFixed(1)} MB on ${path}`);
      const health = await fetch(`${rig.url}/health`);
      assert.is(health.status, 200, 'still healthy');
      const st = [...statuses]
        .sort((a, b) => a[0] - b[0])
        .map(([s, n]) => `${s}×${n}`)
        .join(' ');
      rows.push([
        `POST ${path}: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`,
        perRoute,
        `no 5xx (${st}); ${unchanged} invalid payloads left the store unchanged; heap ${(heapStart / 1e6).toFixed(0)} → ${(heapEnd / 1e6).toFixed(0)} MB (growth after warm-up ${growthMb.toFixed(1)} MB)`,
      ]);
    }
    assert.equal(rig.leaks(), []);
  } finally {
    await rig.stop();
  }
  return {
    name: 'fuzz',
    title: 'Fuzzing (fast-check) of every webhook route',
    rows,
    ms: Date.now() - started,
  };
}
