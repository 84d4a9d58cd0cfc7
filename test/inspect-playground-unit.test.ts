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
import { isLoopbackHost } from '../server/lib/loopback';
import { BLANK_ENV } from './helpers/env';

/** The playground's gate (the open development mode) and the effect summaries history stepping shows. */

/** Settings as `npm start` reads them with only `env` set (HOST's default depends on the mode and channels). */
const config = (env: Record<string, string>) => readConfig({ ...BLANK_ENV, ...env });

test('inspectorOpen: only MODE=dev, no live channel and a loopback HOST', () => {
  assert.ok(inspectorOpen(config({})), 'the defaults: dev, every channel dry, 127.0.0.1');
  for (const host of [
    '127.0.0.1',
    '127.1.2.3',
    '127.8.9.10',
    '::1',
    '[::1]',
    'localhost',
    '::ffff:127.0.0.1',
  ])
    assert.ok(inspectorOpen(config({ HOST: host })), host);
  for (const host of [
    '0.0.0.0',
    '::',
    '192.168.1.5',
    '10.0.0.1',
    'example.com',
    'example.org',
    '128.0.0.1',
    '127.0.0.256',
    '::ffff:10.0.0.1',
  ])
    assert.not.ok(inspectorOpen(config({ HOST: host })), host);
  assert.not.ok(inspectorOpen(config({ MODE: 'prod', HOST: '127.0.0.1' })), 'prod');
  assert.not.ok(inspectorOpen(config({ D360_API_KEY: 'k', HOST: '127.0.0.1' })), 'live WhatsApp');
  assert.not.ok(inspectorOpen(config({ TELEGRAM_BOT_TOKEN: '1:x', HOST: '127.0.0.1' })), 'live Telegram');
  assert.not.ok(
    inspectorOpen(
      config({ ZADARMA_API_KEY: 'k', ZADARMA_API_SECRET: 's', ZADARMA_CALLER: '100', HOST: '::1' }),
    ),
    'live Zadarma',
  );
  assert.not.ok(inspectorOpen(config({ D360_API_KEY: 'k' })), 'a live channel listens on 0.0.0.0 by default');
  const dry = config({});
  for (const channel of ['whatsapp', 'telegram', 'zadarma'] as const) {
    assert.not.ok(inspectorOpen({ ...dry, [channel]: { ...dry[channel], mode: 'live' } }), `${channel} live`);
    assert.ok(inspectorOpen({ ...dry, [channel]: { ...dry[channel], mode: 'off' } }), `${channel} off`);
  }
  assert.not.ok(inspectorOpen({ ...dry, mode: 'prod' }), 'MODE=prod');
  assert.ok(isLoopbackHost('LOCALHOST'));
  assert.not.ok(isLoopbackHost(''));
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
