/**
 * Model-based tests of the gate machines against the running server: the generated paths to each
 * final state of `gate-call` and `ivr-call`, and the paths to every state of `telegram-chat` that one
 * Telegram user can play, are driven through the real entry points (Telegram updates via the fake Bot
 * API, signed Zadarma webhooks, the fake Zadarma REST API answering or holding the callback request,
 * the test clock for timeouts). After every step the actor stored by the engine must have made the same
 * transition as the pure machine.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandUpdate, contactUpdate, textUpdate } from '../fixtures/telegram';
import { incomingCall, outgoingCall } from '../fixtures/zadarma';
import { IVR_MENU_TTL_MS } from '../machines/ivr-call';
import { stateLabel } from '../server/engine/engine';
import type { ActorRecord } from '../server/engine/types';
import { CALLBACK_PATH, eventually, RELAY, type Rig, startRig, zadarmaOk } from './helpers/gate-harness';
import {
  describePath,
  type Ev,
  generatePaths,
  MODELS,
  type Path,
  sentSteps,
  uniquePaths,
} from './helpers/model';

const MEMBER = 6001;
const ADMIN = 6002;
/** Telegram users enough for one fresh user per path (ids of the allow-list and of the admins). */
const MEMBERS = Array.from({ length: 400 }, (_, i) => 610_000 + i);
const ADMINS = Array.from({ length: 400 }, (_, i) => 620_000 + i);
const CALLER = '380501112233'; // on ALLOWED_PHONES
const STRANGER = '380509998877';
const CALL_TIMEOUT_S = 5;
const ENV = {
  TELEGRAM_ALLOWED_USERS: [MEMBER, ...MEMBERS].join(','),
  TELEGRAM_ADMIN_IDS: [ADMIN, ...ADMINS].join(','),
  ALLOWED_PHONES: CALLER,
  GATE_COOLDOWN_S: '0',
  GATE_CALL_TIMEOUT_S: String(CALL_TIMEOUT_S),
  SUPPORT_PHONE: '+380441112233',
};

type Gate = keyof typeof RELAY;

const actor = (rig: Rig, key: string) => rig.svc.store.get<ActorRecord>('actors', key);
const callKeys = (rig: Rig) =>
  new Set(
    rig.svc.store
      .all<ActorRecord>('actors')
      .filter((a) => a.machine === 'gate-call')
      .map((a) => a.key),
  );

/** Waits for the actor's i-th transition and checks it is the path's step. */
async function expectStep(rig: Rig, key: string, path: Path, i: number): Promise<void> {
  const step = sentSteps(path)[i];
  const where = `${describePath(path)}, step ${i + 1}`;
  const rec = await eventually(
    () => {
      const a = actor(rig, key);
      return a && a.history.length > i ? a : undefined;
    },
    5000,
    `${where} to be committed`,
  );
  assert.is(rec.history[i]?.event, step?.event.type, where);
  assert.is(rec.history[i]?.to, step ? stateLabel(step.state) : '', where);
}

/** Ends whatever call holds a gate (a relay leg reports "cancelled after ringing": opened). */
async function freeGates(rig: Rig): Promise<void> {
  for (const gate of Object.keys(RELAY) as Gate[]) {
    if (rig.pendingOf(gate) === null) continue;
    await zadarmaOk(
      rig.url,
      outgoingCall({ destination: RELAY[gate] }).end({ disposition: 'cancel', duration: 3 }),
    );
    await eventually(() => rig.pendingOf(gate) === null, 5000, `${gate} to be free`);
  }
}

/** A new gate-call actor, not among `before`. */
const newCall = (rig: Rig, before: Set<string>) =>
  eventually(() => [...callKeys(rig)].find((k) => !before.has(k)), 5000, 'a new gate call');

/** Stops the service without waiting for callback requests the fake Zadarma is holding. */
async function stopRig(rig: Rig): Promise<void> {
  await rig.zd.close();
  await rig.stop();
}

function report(name: string, generated: string, run: number, note = ''): void {
  process.stdout.write(`model ${name}: ${generated} generated; ${run} run on the server${note}\n`);
}

const finalPaths = (name: keyof typeof MODELS) => {
  const { shortest, simple } = generatePaths(MODELS[name]);
  const toFinal = uniquePaths([...shortest, ...simple].filter((p) => p.state.status === 'done'));
  return { shortest, simple, toFinal };
};

test('gate-call: every path to each final state, through Telegram, Zadarma and the clock', async () => {
  const { shortest, simple, toFinal } = finalPaths('gate-call');
  const rig = await startRig(ENV);
  let run = 0;
  try {
    const member = rig.user(MEMBER);
    for (const path of toFinal) {
      await freeGates(rig);
      const steps = sentSteps(path);
      let key = '';
      let leg = outgoingCall({ destination: RELAY.hvirtka });
      for (const [i, step] of steps.entries()) {
        const e = step.event;
        if (e.type === 'REQUEST' && !e.busy) {
          // How the callback request will fare decides the next step: answered, refused or held.
          const next = steps[i + 1]?.event.type;
          if (next === 'API_FAILED')
            rig.zd.failNext({ status: 400, message: 'Wrong parameter', path: CALLBACK_PATH });
          else if (next !== 'API_OK') rig.zd.failNext({ status: 0, hang: true, path: CALLBACK_PATH });
          const before = callKeys(rig);
          await rig.deliver(commandUpdate({ userId: MEMBER, firstName: member.firstName, text: '/hvirtka' }));
          key = await newCall(rig, before);
        } else if (e.type === 'REQUEST') {
          // A second request while the gate has a call: only the voice menu asks without checking.
          const blocker = callKeys(rig);
          await rig.deliver(commandUpdate({ userId: MEMBER, firstName: member.firstName, text: '/hvirtka' }));
          const first = await newCall(rig, blocker);
          await eventually(() => actor(rig, first)?.state === 'live.pending', 5000, 'the first call pending');
          const before = callKeys(rig);
          const call = incomingCall({ caller_id: CALLER });
          await zadarmaOk(rig.url, call.start());
          await zadarmaOk(rig.url, call.dtmf('2'));
          key = await newCall(rig, before);
          await expectStep(rig, key, path, i);
          await freeGates(rig);
          continue;
        } else if (e.type === 'CALL_START') {
          leg = outgoingCall({ destination: RELAY.hvirtka });
          await zadarmaOk(rig.url, leg.start());
        } else if (e.type === 'CALL_END') {
          await zadarmaOk(rig.url, leg.end({ disposition: e.disposition, duration: e.duration }));
        } else if (e.type === 'TIMEOUT') {
          rig.clock.advance((CALL_TIMEOUT_S + 1) * 1000);
        } else if (e.type !== 'API_OK' && e.type !== 'API_FAILED') {
          throw new Error(`no way to send ${e.type}`);
        }
        await expectStep(rig, key, path, i);
      }
      assert.is(actor(rig, key)?.state, stateLabel(path.state), describePath(path));
      assert.is(rig.pendingOf('hvirtka') === key, false, `${describePath(path)}: the gate is released`);
      run++;
    }
  } finally {
    await stopRig(rig);
  }
  report(
    'gate-call',
    `${shortest.length} shortest + ${simple.length} simple paths`,
    run,
    ` (${toFinal.length} distinct paths to final states)`,
  );
  assert.ok(run > 0);
  assert.is(run, toFinal.length);
});

test('ivr-call: every path to each final state, through signed Zadarma webhooks', async () => {
  const { shortest, simple, toFinal } = finalPaths('ivr-call');
  const rig = await startRig(ENV);
  let run = 0;
  try {
    for (const path of toFinal) {
      await freeGates(rig);
      let call = incomingCall({ caller_id: CALLER });
      for (const [i, step] of sentSteps(path).entries()) {
        const e = step.event;
        if (e.type === 'NOTIFY_START') {
          call = incomingCall({ caller_id: e.allowed ? CALLER : STRANGER });
          await zadarmaOk(rig.url, call.start());
        } else if (e.type === 'NOTIFY_IVR') await zadarmaOk(rig.url, call.dtmf(e.digits));
        else if (e.type === 'CALL_END') await zadarmaOk(rig.url, call.end({ disposition: 'answered' }));
        else if (e.type === 'TIMEOUT') rig.clock.advance(IVR_MENU_TTL_MS + 1000);
        else throw new Error(`no way to send ${e.type}`);
        await expectStep(rig, `ivr:${call.pbx_call_id}`, path, i);
      }
      assert.is(actor(rig, `ivr:${call.pbx_call_id}`)?.state, stateLabel(path.state), describePath(path));
      if (path.state.value === 'opening') {
        const gate: Gate = path.state.context.choice;
        await eventually(() => rig.pendingOf(gate) !== null, 5000, `a call opening ${gate}`);
      }
      run++;
    }
  } finally {
    await stopRig(rig);
  }
  report(
    'ivr-call',
    `${shortest.length} shortest + ${simple.length} simple paths`,
    run,
    ` (${toFinal.length} distinct paths to final states)`,
  );
  assert.ok(run > 0);
  assert.is(run, toFinal.length);
});

/**
 * The Telegram user who can play a path, if one can: a guest (allowed once they share an allowed
 * phone of their own), a member of TELEGRAM_ALLOWED_USERS or an admin; gate commands only as the
 * server sees them here (gates configured, free, no cooldown).
 */
function playerOf(path: Path): 'guest' | 'member' | 'admin' | undefined {
  const events = sentSteps(path).map((s) => s.event);
  const allowedPhone = (p: string) => p === CALLER;
  for (const who of ['guest', 'member', 'admin'] as const) {
    let proven: string | null = null;
    const ok = events.every((e: Ev) => {
      if (e.admin !== (who === 'admin')) return false;
      if (e.type === 'GATE' && (e.busy || !e.available || e.cooldownMs > 0)) return false;
      if (e.type === 'CONTACT' && e.own) proven = e.phone;
      const allowed = who !== 'guest' || (proven !== null && allowedPhone(proven));
      return e.allowed === allowed;
    });
    if (ok) return who;
  }
  return undefined;
}

const fresh = { guest: 0, member: 0, admin: 0 };
const userIdOf = (who: 'guest' | 'member' | 'admin') => {
  const n = fresh[who]++;
  const id = who === 'guest' ? 7_100_000 + n : (who === 'member' ? MEMBERS : ADMINS)[n];
  if (id === undefined) throw new Error(`more than ${MEMBERS.length} ${who} paths: add ids`);
  return id;
};
function updateFor(e: Ev, userId: number) {
  const u = { userId, firstName: 'Model' };
  switch (e.type) {
    case 'START':
    case 'HELP':
    case 'STATUS':
    case 'STATS':
      return commandUpdate({ ...u, text: `/${e.type.toLowerCase()}` });
    case 'INFO':
      return commandUpdate({ ...u, text: '/call' });
    case 'GATE':
      return commandUpdate({ ...u, text: `/${e.gate}` });
    case 'ADMIN':
      return commandUpdate({ ...u, text: `/${e.command}${e.phone ? ` ${e.phone}` : ''}` });
    case 'CONTACT':
      return contactUpdate({ ...u, phone: e.phone, contactUserId: e.own ? userId : 999_000_001 });
    case 'TEXT':
      return textUpdate({ ...u, text: 'добрий день' });
    default:
      throw new Error(`no update for ${e.type}`);
  }
}

test('telegram-chat: every path to every state that one user can play, through the Bot API', async () => {
  const { shortest, simple } = generatePaths(MODELS['telegram-chat']);
  const all = uniquePaths([...shortest, ...simple]);
  const playable = all.filter((p) => playerOf(p) !== undefined);
  const rig = await startRig(ENV);
  let run = 0;
  try {
    for (const path of playable) {
      const userId = userIdOf(playerOf(path) as 'guest' | 'member' | 'admin');
      const key = `tg:${userId}`;
      for (const [i, step] of sentSteps(path).entries()) {
        const before = rig.tg.sent().filter((m) => m.chat_id === userId).length;
        await rig.deliver(updateFor(step.event, userId));
        const rec = await eventually(
          () => {
            const a = actor(rig, key);
            return a && a.history.length > i ? a : undefined;
          },
          5000,
          `${describePath(path)}, step ${i + 1}`,
        );
        assert.is(rec.history[i]?.event, step.event.type, describePath(path));
        assert.is(rec.history[i]?.to, stateLabel(step.state), describePath(path));
        await rig.tg.waitFor((s) => s.filter((m) => m.chat_id === userId).length > before, 5000);
        await freeGates(rig);
      }
      run++;
    }
  } finally {
    await stopRig(rig);
  }
  report(
    'telegram-chat',
    `${shortest.length} shortest + ${simple.length} simple paths`,
    run,
    ` (${all.length - playable.length} of ${all.length} distinct paths need facts no single user can produce here: skipped)`,
  );
  assert.ok(run > 0);
});

test.run();
