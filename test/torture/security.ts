/** The security checks of issue #5, each its own assertion; every configured secret is looked for in logs and answers. */

import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import * as assert from 'uvu/assert';
import { commandUpdate, contactUpdate } from '../../fixtures/telegram';
import { textMessage } from '../../fixtures/whatsapp';
import { incomingCall } from '../../fixtures/zadarma';
import { ConfigError, readConfig } from '../../server/config/config';
import { CALLBACK_PATH, RELAY } from '../helpers/gate-harness';
import { http, sleep, testEnv, tmpDataDir } from '../helpers/service';
import { type Profile, pick, type Section, storeDigest } from './common';
import { HEADER, SECRETS, startTortureRig, TG_SECRET_HEADER } from './rig';

const root = new URL('../..', import.meta.url).pathname;

/** Sends headers declaring `declared` bytes and only a few of them: the answer must come without the rest. */
function declaredOnly(
  url: string,
  path: string,
  declared: number,
  headers: Record<string, string> = {},
): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname);
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer to a ${declared}-byte declaration on ${path}`));
    }, 3000);
    sock.on('data', (d) => {
      got += d;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m) {
        clearTimeout(timer);
        sock.destroy();
        resolve(Number(m[1]));
      }
    });
    sock.on('error', () => undefined);
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    sock.write(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n${extra}\r\n{"a":`,
    );
  });
}

export async function run(profile: Profile): Promise<Section> {
  const started = Date.now();
  const flood = pick(profile, 30, 200);
  const rows: Section['rows'] = [];
  const rig = await startTortureRig({ GATE_COOLDOWN_S: '10', ALLOWED_PHONES: '' });
  try {
    const callbacks = () => rig.zd.requests.filter((r) => r.path === CALLBACK_PATH).length;
    const zdRequests = () => rig.zd.requests.length;

    // Zadarma: wrong and missing Signature → 401, logged, no effect.
    const before = await storeDigest(rig.dataDir);
    const leg = incomingCall({ caller_id: RELAY.hvirtka });
    const logsBefore = rig.logs.length;
    const wrong = await rig.postZd(leg.start(), 'bm90IGEgc2lnbmF0dXJl');
    const missing = await rig.postZd(leg.end({ disposition: 'cancel', duration: 5 }), null);
    assert.is(wrong.status, 401, 'wrong Signature');
    assert.is(missing.status, 401, 'missing Signature');
    const refusedLines = rig.logs
      .slice(logsBefore)
      .filter((l) => /wrong or missing signature refused/.test(l));
    assert.is(refusedLines.length, 2, 'each refusal logged');
    assert.ok(
      refusedLines.some((l) => l.includes('signature=missing')) &&
        refusedLines.some((l) => l.includes('signature=wrong')),
    );
    assert.is(await storeDigest(rig.dataDir), before, 'a refused Zadarma webhook changes nothing');
    rows.push([
      'Zadarma webhook with a wrong / missing Signature',
      2,
      '401, one log line each, store unchanged',
    ]);

    // MODE=prod requires the Zadarma secret.
    let prodError = '';
    try {
      readConfig(
        testEnv({
          MODE: 'prod',
          DATA_DIR: tmpDataDir(),
          ZADARMA_API_KEY: 'k'.repeat(20),
          ZADARMA_CALLER: '380443334455',
          GATES: 'hvirtka=0637442017',
          ZADARMA_API_SECRET: '',
          TELEGRAM_BOT_TOKEN: '',
          D360_API_KEY: '',
          VERIFY_TOKEN: '',
        }),
      );
    } catch (e) {
      if (e instanceof ConfigError) prodError = e.message;
      else throw e;
    }
    assert.match(prodError, 'ZADARMA_API_SECRET', 'prod refuses to start without the Zadarma secret');
    rows.push([
      'MODE=prod with Zadarma settings but no ZADARMA_API_SECRET',
      1,
      'refuses to start, naming it',
    ]);

    // Telegram webhook without / with a wrong secret token → 401; WEBHOOK_SECRET_HEADER enforced.
    const upd = commandUpdate({ userId: 1001, text: '/start' });
    const tgNone = await rig.call('/telegram/webhook', { body: upd });
    const tgWrong = await rig.call('/telegram/webhook', {
      body: upd,
      headers: { [TG_SECRET_HEADER]: 'nope' },
    });
    assert.is(tgNone.status, 401);
    assert.is(tgWrong.status, 401);
    const waBody = textMessage({ from: '79005550001', body: 'меню' });
    const waNone = await rig.call('/webhook', { body: waBody });
    const waWrong = await rig.call('/webhook', {
      body: waBody,
      headers: { [HEADER.name]: `${HEADER.value}x` },
    });
    assert.is(waNone.status, 401);
    assert.is(waWrong.status, 401);
    assert.is(await storeDigest(rig.dataDir), before, 'refused webhooks change nothing');
    assert.is(rig.tg.sent().length + rig.d360.sent().length, 0, 'nothing was sent for refused webhooks');
    rows.push(['Telegram webhook without / with a wrong secret token', 2, '401, nothing stored or sent']);
    rows.push([
      'WhatsApp webhook without / with a wrong WEBHOOK_SECRET_HEADER',
      2,
      '401, nothing stored or sent',
    ]);

    // A Telegram user not on the allow-list never causes a Zadarma request.
    const zdBefore = zdRequests();
    for (let i = 0; i < flood; i++) {
      const text = i % 2 ? '/hvirtka' : '/vorota';
      assert.is((await rig.postTg(commandUpdate({ userId: 666, text }))).status, 200);
    }
    assert.is((await rig.postTg(contactUpdate({ userId: 666, phone: '+380501112233' }))).status, 200);
    assert.is((await rig.postTg(commandUpdate({ userId: 666, text: '/vorota' }))).status, 200);
    await sleep(300);
    assert.is(zdRequests() - zdBefore, 0, 'no Zadarma request for a stranger');
    rows.push([
      'gate commands from a Telegram user not on the allow-list (and after sharing an unknown phone)',
      flood + 1,
      '0 Zadarma requests (counted at the fake)',
    ]);

    // A flood of gate commands from an allowed user is rate-limited (GATE_COOLDOWN_S=10).
    const cbBefore = callbacks();
    await Promise.all(
      Array.from({ length: flood }, (_, i) =>
        rig.postTg(commandUpdate({ userId: 1002, text: i % 2 ? '/hvirtka' : '/vorota' })),
      ),
    );
    await sleep(500);
    const placed = callbacks() - cbBefore;
    assert.is(placed, 1, `one callback for a flood of ${flood} commands, got ${placed}`);
    rows.push([
      `a flood of gate commands (${flood} at once) from one allowed user`,
      flood,
      `${placed} callback placed, the rest refused (cooldown / gate busy)`,
    ]);

    // Admin pages: 401 without or with a wrong token, 200 with it; compared with safeEqual (timingSafeEqual).
    for (const path of ['/inspect', '/inspect/actors.json', '/admin/attendance', '/admin/attendance.csv']) {
      assert.is((await rig.call(path)).status, 401, `${path} without a token`);
      assert.is((await rig.call(`${path}?token=wrong`)).status, 401, `${path} with a wrong token`);
      assert.is(
        (await rig.call(path, { headers: { authorization: 'Bearer wrong' } })).status,
        401,
        `${path} with a wrong Bearer token`,
      );
      assert.is(
        (await rig.call(`${path}?token=${SECRETS.ADMIN_TOKEN}`)).status,
        401,
        `${path}: a token in the URL is not read`,
      );
      assert.is(
        (await rig.call(path, { headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` } })).status,
        200,
      );
    }
    const auth = readFileSync(`${root}/server/http/admin-auth.ts`, 'utf-8');
    const safe = readFileSync(`${root}/server/http/safe-equal.ts`, 'utf-8');
    assert.match(auth, /safeEqual\(token, adminToken\)/, 'the admin token is compared with safeEqual');
    assert.ok(
      !/token\s*===|===\s*adminToken|adminToken\s*===/.test(auth),
      'no plain comparison of the token',
    );
    assert.match(safe, 'timingSafeEqual', 'safeEqual uses crypto.timingSafeEqual');
    rows.push([
      'admin pages (4 routes) without / with a wrong token (URL, Bearer) / the right one in the URL / Bearer',
      20,
      '401 / 401, 401 / 401 (never read from URLs) / 200; compared by safeEqual → crypto.timingSafeEqual on SHA-256 digests',
    ]);

    // Over the limit → 413 before the body is read (declared length, body never sent in full).
    const big = await declaredOnly(rig.url, '/webhook', 5_000_000, { [HEADER.name]: HEADER.value });
    const bigTg = await declaredOnly(rig.url, '/telegram/webhook', 5_000_000, {
      [TG_SECRET_HEADER]: SECRETS.TELEGRAM_WEBHOOK_SECRET,
    });
    const bigZd = await declaredOnly(rig.url, '/zadarma/webhook', 100_000);
    assert.is(big, 413);
    assert.is(bigTg, 413);
    assert.is(bigZd, 413);
    // and when streamed without a length (chunked), cut at the limit
    const chunked = await http(`${rig.url}/webhook`, {
      raw: `{"x":"${'a'.repeat(1_100_000)}"}`,
      headers: { 'content-type': 'application/json', [HEADER.name]: HEADER.value },
    });
    assert.is(chunked.status, 413);
    rows.push([
      'bodies over the limit (declared 5 MB / 100 kB never sent; 1.1 MB sent)',
      4,
      '413 answered before the body arrived',
    ]);

    const leaks = rig.leaks();
    assert.equal(leaks, [], 'no configured secret in any log line or answer');
    rows.push([
      `configured secrets (${rig.secrets.length}) looked for in every log line and answer body of this run`,
      `${rig.logs.length} lines, ${rig.bodies.length} bodies`,
      '0 found',
    ]);
  } finally {
    await rig.stop();
  }
  return { name: 'security', title: 'Security checks', rows, ms: Date.now() - started };
}
