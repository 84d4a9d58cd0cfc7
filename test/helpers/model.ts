/**
 * Model-based testing: for every registered machine, the events a test may send (with the payload
 * variants that pick each guard), how states are told apart, and the invariants every step must keep.
 * `xstate/graph` turns these into paths (shortest paths to every state, simple paths to each final
 * state, or to every state for a machine without one); `replay` runs a path on the pure machine with
 * `transition()`, checking each step against the path and the invariants. The server suites
 * (`model-*.test.ts`) run the same paths through the webhooks.
 */
import {
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
  initialTransition,
  transition,
} from 'xstate';
import { getShortestPaths, getSimplePaths, type StatePath } from 'xstate/graph';
import { MACHINES, type MachineName } from '../../machines/index';
import { stateLabel } from '../../server/engine/engine';

// biome-ignore lint/suspicious/noExplicitAny: events are checked field by field by each machine's model
export type Ev = EventObject & Record<string, any>;
export type Path = StatePath<AnyMachineSnapshot, Ev>;

export interface Step {
  event: Ev;
  before: AnyMachineSnapshot;
  after: AnyMachineSnapshot;
  /** The named actions the step emitted (XState's own bookkeeping left out), params resolved. */
  actions: Array<{ type: string; params?: unknown }>;
}

export interface MachineModel {
  name: MachineName;
  logic: AnyStateMachine;
  events: readonly Ev[];
  /** What makes two states different for path generation (state value plus the context that matters). */
  serializeState: (s: AnyMachineSnapshot) => string;
  /** Throws when a step breaks one of the machine's rules. */
  checkStep: (step: Step) => void;
  /** Throws when a whole path breaks a rule (called with every step). */
  checkPath?: (steps: Step[]) => void;
}

/** Simple paths longer than this are dropped (the machines are small; this only bounds a runaway). */
export const MAX_STEPS = 8;
/** xstate/graph gives up (throws) after this many traversal iterations. */
const LIMIT = 50_000;

export const NOW = Date.UTC(2026, 10, 22, 9, 0, 0); // 12:00 in Moscow
export const TODAY = '2026-11-22';

const fail = (msg: string): never => {
  throw new Error(msg);
};
const count = (step: Step, type: string) => step.actions.filter((a) => a.type === type).length;
const value = (s: AnyMachineSnapshot) => JSON.stringify(s.value);

// --- whatsapp-menu -----------------------------------------------------------------------------
const wa = (i: number) => ({ now: NOW, today: TODAY, messageId: `wamid.model${i}`, recent: [], taken: [] });
const WHATSAPP: MachineModel = {
  name: 'whatsapp-menu',
  logic: MACHINES['whatsapp-menu'].logic,
  events: [
    { type: 'TEXT', text: 'меню', ...wa(1) },
    { type: 'TEXT', text: '01.11-07.11', ...wa(2) },
    { type: 'TEXT', text: 'ночная', ...wa(3) },
    { type: 'TEXT', text: 'привет', ...wa(4) },
    ...['FILL_TODAY', 'FILL_PERIOD', 'MY_STATUS', 'OLD_BUTTON'].map((id, i) => ({
      type: 'BUTTON',
      id,
      ...wa(10 + i),
    })),
    ...['SHIFT_DAY', 'SHIFT_NIGHT', 'SHIFT_OFF', 'OLD_ROW'].map((id, i) => ({
      type: 'LIST',
      id,
      ...wa(20 + i),
    })),
    { type: 'UNSUPPORTED', kind: 'image', ...wa(30) },
    { type: 'TEXT', text: 'стоп', ...wa(40) },
    { type: 'TEXT', text: 'старт', ...wa(41) },
    { type: 'TIMEOUT', now: NOW },
    ...[
      { windowOpen: true, recorded: false },
      { windowOpen: false, recorded: false },
      { windowOpen: true, recorded: true },
    ].map((facts) => ({ type: 'REMIND', now: NOW, today: TODAY, name: 'Ана', stopped: false, ...facts })),
  ],
  serializeState: (s) => JSON.stringify([s.value, s.context.pending]),
  checkStep: (step) => {
    const replies = count(step, 'reply');
    const e = step.event;
    if (e.type === 'REMIND') {
      const due = !e.recorded && !e.stopped;
      if (replies !== (due && e.windowOpen ? 1 : 0)) fail('a due reminder inside the window is one menu');
      if (count(step, 'remindTemplate') !== (due && !e.windowOpen ? 1 : 0))
        fail('a due reminder outside the window is the template');
      return;
    }
    if (e.type === 'TEXT' && ['стоп', 'старт'].includes(e.text)) {
      const set = step.actions.filter((a) => a.type === 'setReminders');
      if (set.length !== 1 || (set[0]?.params as { on?: boolean } | undefined)?.on !== (e.text === 'старт'))
        fail('"стоп" / "старт" set reminders off / on');
      if (stateLabel(step.after) !== 'active.menu') fail('"стоп" / "старт" show the menu');
    }
    if (step.event.type === 'TIMEOUT') {
      if (replies !== 0) fail('TIMEOUT must not reply');
      if (step.after.value !== 'idle') fail('TIMEOUT must end in idle');
    } else if (replies !== 1) fail(`each message gets exactly one reply, got ${replies}`);
    if (count(step, 'recordShift') > 0 && stateLabel(step.after) !== 'active.menu')
      fail('a recorded shift returns to the menu');
  },
};

// --- telegram-chat -----------------------------------------------------------------------------
const GUEST = { allowed: false, admin: false };
const MEMBER = { allowed: true, admin: false };
const ADMIN = { allowed: true, admin: true };
const tg = (w: typeof GUEST) => ({ now: NOW, chatId: 4242, firstName: 'Model', ...w });
const gate = (o: { busy?: boolean; available?: boolean; cooldownMs?: number }, w = MEMBER) => ({
  type: 'GATE',
  gate: 'hvirtka',
  busy: false,
  available: true,
  cooldownMs: 0,
  ...o,
  ...tg(w),
});
const TELEGRAM: MachineModel = {
  name: 'telegram-chat',
  logic: MACHINES['telegram-chat'].logic,
  // One variant per guard branch; the commands without guards as a guest and as a member.
  events: [
    ...[GUEST, MEMBER].flatMap((w) => [
      { type: 'START', ...tg(w) },
      { type: 'HELP', ...tg(w) },
      { type: 'TEXT', ...tg(w) },
      { type: 'STATUS', calls: [], ...tg(w) },
      { type: 'INFO', topic: 'call', ...tg(w) },
    ]),
    { type: 'CONTACT', phone: '380501112233', own: false, ...tg(GUEST) },
    { type: 'CONTACT', phone: '380501112233', own: true, ...tg(MEMBER) },
    { type: 'CONTACT', phone: '380509998877', own: true, ...tg(GUEST) },
    gate({}, GUEST),
    gate({ available: false }),
    gate({ cooldownMs: 60_000 }),
    gate({ busy: true }),
    gate({}),
    { type: 'ADMIN', command: 'allow', phone: '380501112233', ...tg(MEMBER) },
    { type: 'ADMIN', command: 'revoke', phone: null, ...tg(ADMIN) },
    { type: 'ADMIN', command: 'allow', phone: '380501112233', ...tg(ADMIN) },
    { type: 'STATS', stats: { day: {}, week: {} }, ...tg(MEMBER) },
    { type: 'STATS', stats: { day: {}, week: {} }, ...tg(ADMIN) },
  ],
  // Whether a gate was opened matters: the cooldown only bites after one.
  serializeState: (s) => JSON.stringify([s.value, s.context.lastGateAt > 0]),
  checkStep: (step) => {
    const e = step.event;
    if (count(step, 'reply') !== 1) fail(`each update gets exactly one reply, got ${count(step, 'reply')}`);
    const opens = count(step, 'openGate');
    const mayOpen =
      e.type === 'GATE' &&
      e.allowed &&
      e.available &&
      !e.busy &&
      step.before.context.lastGateAt + e.cooldownMs <= e.now;
    if (opens !== (mayOpen ? 1 : 0))
      fail(`openGate ${opens} times where ${mayOpen ? 'once' : 'never'} is right`);
    // The state follows what the server says of this update: no flag in the context repeats it.
    if ((step.after.value === 'member') !== e.allowed) fail('member exactly when the update says allowed');
    if ('allowed' in step.after.context) fail('the context holds no copy of the state');
    if (count(step, 'setAccess') > 0 && !e.admin) fail('only an admin changes access');
  },
};

// --- gate-call ---------------------------------------------------------------------------------
const RELAY = '380637442017';
const request = (busy: boolean, source: 'telegram' | 'ivr') => ({
  type: 'REQUEST',
  now: NOW,
  gate: 'hvirtka',
  relay: RELAY,
  source,
  ...(source === 'telegram' ? { userId: 4242, chatId: 4242 } : { caller: '380501112233' }),
  busy,
  timeoutMs: 60_000,
});
export const CALL_ENDS: ReadonlyArray<[string, number]> = [
  ['cancel', 5],
  ['busy', 0],
  ['cancel', 0],
  ['answered', 5],
  ['failed', 0],
];
const GATE_CALL: MachineModel = {
  name: 'gate-call',
  logic: MACHINES['gate-call'].logic,
  events: [
    request(false, 'telegram'),
    request(true, 'ivr'),
    { type: 'API_OK', now: NOW + 1000 },
    { type: 'API_FAILED', now: NOW + 1000, message: 'Wrong parameter' },
    { type: 'CALL_START', now: NOW + 2000, pbxCallId: 'out_model' },
    ...CALL_ENDS.map(([disposition, duration]) => ({
      type: 'CALL_END',
      now: NOW + 3000,
      pbxCallId: 'out_model',
      disposition,
      duration,
    })),
    { type: 'TIMEOUT', now: NOW + 61_000 },
  ],
  serializeState: value,
  checkStep: (step) => {
    if (step.before.status === 'done' && step.actions.length > 0) fail('a finished call does nothing more');
    if (step.after.status === 'done' && step.after.context.deadline !== null)
      fail('a finished call has no deadline');
  },
  checkPath: (steps) => {
    const all = steps.flatMap((s) => s.actions.map((a) => a.type));
    const n = (t: string) => all.filter((x) => x === t).length;
    if (n('requestCallback') > 1) fail('the callback is requested at most once');
    const last = steps[steps.length - 1]?.after;
    if (last?.status === 'done' && n('claimGate') !== n('releaseGate'))
      fail('a finished call releases its gate');
    if (last?.value === 'duplicate' && n('claimGate') > 0) fail('a duplicate never claims the gate');
  },
};

// --- ivr-call ----------------------------------------------------------------------------------
const IVR_CALL: MachineModel = {
  name: 'ivr-call',
  logic: MACHINES['ivr-call'].logic,
  events: [
    { type: 'NOTIFY_START', now: NOW, caller: '380501112233', allowed: true },
    { type: 'NOTIFY_START', now: NOW, caller: '380509998877', allowed: false },
    ...['1', '2', '9'].map((digits) => ({ type: 'NOTIFY_IVR', now: NOW + 1000, digits })),
    { type: 'CALL_END', now: NOW + 2000 },
    { type: 'TIMEOUT', now: NOW + 11 * 60_000 },
  ],
  serializeState: (s) => JSON.stringify([s.value, s.context.attempts]),
  checkStep: (step) => {
    const e = step.event;
    const asks = e.type === 'NOTIFY_START' || e.type === 'NOTIFY_IVR';
    const answers = step.actions.filter((a) => a.type === 'answer') as Array<{ params: { hangup: boolean } }>;
    if (step.before.status !== 'done' && asks && answers.length !== 1) fail('each menu step answers once');
    if (step.after.status === 'done' && answers.some((a) => !a.params.hangup))
      fail('a final answer hangs up');
    if (
      count(step, 'openGate') !== (step.after.value === 'opening' && step.before.value !== 'opening' ? 1 : 0)
    )
      fail('openGate exactly when the caller chose a gate');
  },
};

// --- admin-alerts ------------------------------------------------------------------------------
const MIN = 60_000;
const alertAt = (cause: string, kind: string, at: number) => ({
  type: 'ALERT',
  now: NOW + at,
  cause,
  kind,
  info: {},
});
const ADMIN_ALERTS: MachineModel = {
  name: 'admin-alerts',
  logic: MACHINES['admin-alerts'].logic,
  // Few on purpose: simple paths grow fast with causes (the other kinds: test/admin-alerts-machine.test.ts).
  events: [
    alertAt('zadarmaApi', 'zadarmaApi', 0),
    alertAt('zadarmaApi', 'zadarmaApi', 10 * MIN),
    { type: 'RECOVER', now: NOW + 20 * MIN, cause: 'zadarmaApi' },
    alertAt('zadarmaBalance', 'zadarmaBalance', 0),
    { type: 'TIMEOUT', now: NOW + 120 * MIN },
  ],
  serializeState: (s) =>
    JSON.stringify([
      s.value,
      Object.entries(s.context.causes as Record<string, Record<string, unknown>>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, c]) => [k, c.active, c.announced, (c.suppressed as number) > 0]),
    ]),
  checkStep: (step) => {
    const notes = step.actions
      .filter((a) => a.type === 'notify')
      .map((a) => a.params as Record<string, unknown>);
    const causes = notes.map((n) => n.cause);
    if (new Set(causes).size !== causes.length) fail('at most one notice per cause per step');
    for (const n of notes) {
      const before = step.before.context.causes[n.cause as string];
      if (n.what === 'recovered' && !before?.announced) fail('a recovery only after an announced alert');
    }
    const anyActive = Object.values(step.after.context.causes as Record<string, { active: boolean }>).some(
      (c) => c.active,
    );
    if ((step.after.value === 'alerting') !== anyActive) fail('alerting exactly while some cause is on');
  },
  checkPath: (steps) => {
    const last = new Map<string, number>();
    for (const s of steps) {
      for (const a of s.actions) {
        const n = a.params as { cause: string; what: string };
        if (a.type !== 'notify' || n.what === 'recovered') continue;
        const prev = last.get(n.cause);
        if (prev !== undefined && s.event.now - prev < 60 * MIN)
          fail(`two alerts of ${n.cause} within an hour`);
        last.set(n.cause, s.event.now);
      }
    }
  },
};

export const MODELS: Record<MachineName, MachineModel> = {
  'whatsapp-menu': WHATSAPP,
  'telegram-chat': TELEGRAM,
  'gate-call': GATE_CALL,
  'ivr-call': IVR_CALL,
  'admin-alerts': ADMIN_ALERTS,
};

export interface GeneratedPaths {
  shortest: Path[];
  /** Simple paths to each final state; to every state when the machine has none. */
  simple: Path[];
  hasFinal: boolean;
}

const isFinal = (s: AnyMachineSnapshot) => s.status === 'done';

export function generatePaths(model: MachineModel): GeneratedPaths {
  const opts = { events: model.events, serializeState: model.serializeState, limit: LIMIT };
  const shortest = getShortestPaths(model.logic, opts) as Path[];
  const hasFinal = shortest.some((p) => isFinal(p.state));
  const simple = (
    getSimplePaths(model.logic, { ...opts, ...(hasFinal ? { toState: isFinal } : {}) }) as Path[]
  ).filter((p) => p.steps.length <= MAX_STEPS + 1);
  return { shortest, simple, hasFinal };
}

/** The steps a test sends: XState's own `xstate.init` step is the starting point, not an event. */
export const sentSteps = (p: Path) => p.steps.filter((s) => s.event.type !== 'xstate.init');

/** `BUTTON(FILL_PERIOD) → TEXT(01.11-07.11) ⇒ choosingShift`. */
export function describePath(p: Path): string {
  const arg = (e: Ev) => e.id ?? e.text ?? e.digits ?? e.disposition ?? (e.allowed === false ? 'denied' : '');
  const events = sentSteps(p).map((s) =>
    arg(s.event) === '' ? s.event.type : `${s.event.type}(${arg(s.event)})`,
  );
  return `${events.join(' → ') || '(start)'} ⇒ ${stateLabel(p.state)}`;
}

/** Unique paths (by their events and end state), shortest first. */
export function uniquePaths(paths: Path[]): Path[] {
  const seen = new Set<string>();
  const out: Path[] = [];
  for (const p of [...paths].sort((a, b) => a.steps.length - b.steps.length)) {
    const k = JSON.stringify([sentSteps(p).map((s) => s.event), p.state.value]);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(p);
    }
  }
  return out;
}

/** Runs a path on the pure machine with `transition()`; throws on the first step that disagrees. */
export function replay(model: MachineModel, path: Path): Step[] {
  let [snapshot] = initialTransition(model.logic);
  const steps: Step[] = [];
  for (const s of sentSteps(path)) {
    const [next, actions] = transition(model.logic, snapshot, s.event);
    const step: Step = {
      event: s.event,
      before: snapshot,
      after: next,
      actions: actions
        .filter((a) => !a.type.startsWith('xstate.'))
        .map((a) => ({ type: a.type, params: a.params })),
    };
    if (value(next) !== value(s.state))
      fail(
        `${describePath(path)}: after ${s.event.type} the machine is in ${value(next)}, the path says ${value(s.state)}`,
      );
    try {
      model.checkStep(step);
    } catch (e) {
      fail(`${describePath(path)}: step ${s.event.type}: ${(e as Error).message}`);
    }
    steps.push(step);
    snapshot = next;
  }
  if (value(snapshot) !== value(path.state)) fail(`${describePath(path)}: ended in ${value(snapshot)}`);
  try {
    model.checkPath?.(steps);
  } catch (e) {
    fail(`${describePath(path)}: ${(e as Error).message}`);
  }
  return steps;
}

/** Every event type the machine has a transition for (XState's internal ones left out). */
export function acceptedEvents(logic: AnyStateMachine): string[] {
  return [...new Set((logic.root.events as string[]).filter((t) => !t.startsWith('xstate.')))].sort();
}
