import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readConfig } from '../server/config/config';
import {
  EFFECT_SUMMARY_CHARS,
  HISTORY_EFFECTS_LIMIT,
  summariseEffects,
} from '../server/engine/effect-summary';
import type { EffectRow } from '../server/engine/types';
import { inspectorOpen } from '../server/inspect/open-mode';
import { testEnv } from './helpers/service';

/** The playground's gate (the open development mode) and the effect summaries history stepping shows. */
const config = (env: Record<string, string>) => readConfig(testEnv({ DATA_DIR: '/tmp/unused', ...env }));

test('inspectorOpen: dev, no live channel and a loopback host, all three', () => {
  for (const HOST of ['127.0.0.1', '127.1.2.3', 'localhost', '::1'])
    assert.ok(inspectorOpen(config({ HOST })), HOST);
  for (const HOST of ['0.0.0.0', '192.168.1.5', '::', 'example.org', '128.0.0.1', '127.0.0.256'])
    assert.not.ok(inspectorOpen(config({ HOST })), HOST);
  assert.not.ok(inspectorOpen(config({ D360_API_KEY: 'live-key' })), 'WhatsApp live');
  const dry = config({});
  for (const channel of ['whatsapp', 'telegram', 'zadarma'] as const) {
    assert.not.ok(inspectorOpen({ ...dry, [channel]: { ...dry[channel], mode: 'live' } }), `${channel} live`);
    assert.ok(inspectorOpen({ ...dry, [channel]: { ...dry[channel], mode: 'off' } }), `${channel} off`);
  }
  assert.not.ok(inspectorOpen({ ...dry, mode: 'prod' }), 'MODE=prod');
});

const row = (
  channel: string,
  payload: Record<string, unknown>,
  id: string = crypto.randomUUID(),
): EffectRow => ({
  id,
  key: 'wa:79001112233',
  channel,
  payload,
  createdAt: 0,
  attempts: 0,
  nextAt: 0,
});

test('summariseEffects: channel, short id, one masked line; bounded in count and length', () => {
  assert.is(summariseEffects([]), undefined);
  const long = 'Смена записана ✅\n01.12.2026 — 03.12.2026 (3 дня): Ночная '.repeat(4);
  const [wa, gate, zd] =
    summariseEffects([
      row(
        'whatsapp',
        { to: '79001112233', message: { type: 'text', text: { body: long } } },
        'abcdef12-3456',
      ),
      row('gate', { gate: 'hvirtka', source: 'telegram', userId: 42 }),
      row('zadarma', { gate: 'hvirtka', to: '380500000001', askedAt: 1795338000000 }),
    ]) ?? [];
  assert.equal(wa?.id, 'abcdef12');
  assert.is(wa?.channel, 'whatsapp');
  assert.is(Array.from(wa?.summary ?? '').length, EFFECT_SUMMARY_CHARS);
  assert.ok(wa?.summary.startsWith('Смена записана ✅ 01.12.2026'), wa?.summary);
  assert.ok(wa?.summary.endsWith('…'));
  assert.is(gate?.summary, 'gate=hvirtka source=telegram userId=42');
  assert.is(zd?.summary, 'gate=hvirtka to=…0001', 'phones masked, times left out');
  const many = summariseEffects(
    Array.from({ length: 9 }, () => row('telegram', { call: { params: { text: 'hi' } } })),
  );
  assert.is(many?.length, HISTORY_EFFECTS_LIMIT);
  assert.is(many?.[0]?.summary, 'hi');
  // An emoji is never cut in half.
  const emoji = summariseEffects([row('telegram', { text: '🎉'.repeat(100) })]);
  assert.is(emoji?.[0]?.summary, `${'🎉'.repeat(EFFECT_SUMMARY_CHARS - 1)}…`);
});

test.run();
