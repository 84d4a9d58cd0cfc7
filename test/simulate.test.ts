import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { WebhookBody } from '../fixtures/whatsapp';
import {
  DEFAULT_FROM,
  DEFAULT_PAUSE_MS,
  DEFAULT_URL,
  describeStep,
  endpointUrl,
  messageIdOf,
  type PlanOptions,
  parseCommandLine,
  planSteps,
  renderCurl,
  requestOf,
  type Step,
  UsageError,
  webhookUrl,
} from '../scripts/simulate-args';
import { DEFAULT_TG_USER, parseGates, TG_SECRET_HEADER } from '../scripts/simulate-gate';
import { verifyWebhookSignature } from '../server/channels/zadarma/sign';
import { DEV_CALLER } from '../server/config/config';
import { normalisePhone } from '../server/lib/phone';
import { BLANK_ENV } from './helpers/env';
import { eventually, startTestService } from './helpers/service';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FROM = '79990001122';

interface Msg {
  from: string;
  id: string;
  timestamp: string;
  type: string;
  text?: { body: string };
  interactive?: {
    type: string;
    button_reply?: { id: string; title: string };
    list_reply?: { id: string; title: string };
  };
  context?: { from: string; id: string };
  [k: string]: unknown;
}

interface Value {
  contacts?: { profile: { name: string }; wa_id: string }[];
  messages?: Msg[];
}

function changeValue(body: WebhookBody): Value {
  const entry = (body.entry as { changes: { field: string; value: Value }[] }[])[0];
  assert.ok(entry, 'entry[0]');
  const change = entry.changes[0];
  assert.ok(change, 'changes[0]');
  assert.is(change.field, 'messages');
  return change.value;
}

function msgOf(body: WebhookBody): Msg {
  const m = changeValue(body).messages?.[0];
  assert.ok(m, 'messages[0]');
  return m;
}

/** Compact description of what a body is: `text:меню`, `button:FILL_TODAY`, `list:SHIFT_DAY`, `image`. */
function kindOf(body: WebhookBody): string {
  const m = msgOf(body);
  if (m.type === 'text') return `text:${m.text?.body}`;
  if (m.type === 'interactive' && m.interactive?.type === 'button_reply') {
    return `button:${m.interactive.button_reply?.id}`;
  }
  if (m.type === 'interactive' && m.interactive?.type === 'list_reply') {
    return `list:${m.interactive.list_reply?.id}`;
  }
  return m.type;
}

const kinds = (steps: Step[]) => steps.map((s) => kindOf(s.body));

const FULL = [
  'text:меню',
  'button:FILL_TODAY',
  'list:SHIFT_DAY',
  'button:MY_STATUS',
  'button:FILL_PERIOD',
  'text:01.11-03.11',
  'list:SHIFT_OFF',
  'button:MY_STATUS',
];

// ---------------------------------------------------------------- planSteps

test('text: one text message from the given sender', () => {
  const steps = planSteps('text', ['меню'], { from: FROM, name: 'Иван', timestamp: 1700000000 });
  assert.is(steps.length, 1);
  const step = steps[0];
  assert.ok(step);
  assert.is(step.label, 'text "меню"');
  assert.is(step.body.object, 'whatsapp_business_account');
  const v = changeValue(step.body);
  assert.equal(v.contacts, [{ profile: { name: 'Иван' }, wa_id: FROM }]);
  const m = msgOf(step.body);
  assert.is(m.type, 'text');
  assert.is(m.from, FROM);
  assert.equal(m.text, { body: 'меню' });
  assert.is(m.timestamp, '1700000000');
  assert.match(m.id, /^wamid\./);
  assert.is(messageIdOf(step.body), m.id);
});

test('text: several words are joined; empty text is an error', () => {
  assert.equal(kinds(planSteps('text', ['привет', 'мир'], { from: FROM })), ['text:привет мир']);
  assert.throws(
    () => planSteps('text', [], { from: FROM }),
    (e: unknown) => e instanceof UsageError,
  );
  assert.throws(() => planSteps('text', ['  '], { from: FROM }), /needs the message text/);
});

test('timestamp defaults to now', () => {
  const before = Math.floor(Date.now() / 1000);
  const [step] = planSteps('text', ['x'], { from: FROM });
  assert.ok(step);
  const ts = Number(msgOf(step.body).timestamp);
  assert.ok(ts >= before && ts <= before + 5, `timestamp ${ts} ~ now ${before}`);
});

test('button: a button_reply with id, title and context', () => {
  for (const id of ['FILL_TODAY', 'FILL_PERIOD', 'MY_STATUS']) {
    const [step, ...rest] = planSteps('button', [id], { from: FROM });
    assert.ok(step);
    assert.is(rest.length, 0);
    assert.is(step.label, `button ${id}`);
    const m = msgOf(step.body);
    assert.is(m.type, 'interactive');
    assert.is(m.from, FROM);
    assert.is(m.interactive?.type, 'button_reply');
    assert.is(m.interactive?.button_reply?.id, id);
    assert.type(m.interactive?.button_reply?.title, 'string');
    assert.ok(m.context?.id);
  }
  assert.is(
    msgOf((planSteps('button', ['MY_STATUS'], { from: FROM })[0] as Step).body).interactive?.button_reply
      ?.title,
    'Мой статус',
  );
  assert.throws(() => planSteps('button', [], { from: FROM }), /takes one id/);
  assert.throws(() => planSteps('button', ['A', 'B'], { from: FROM }), /takes one id/);
});

test('list: a list_reply with the row id', () => {
  for (const id of ['SHIFT_DAY', 'SHIFT_NIGHT', 'SHIFT_OFF']) {
    const steps = planSteps('list', [id], { from: FROM });
    assert.equal(kinds(steps), [`list:${id}`]);
    assert.is((steps[0] as Step).label, `list ${id}`);
    assert.is(msgOf((steps[0] as Step).body).from, FROM);
  }
  assert.is(
    msgOf((planSteps('list', ['SHIFT_NIGHT'], { from: FROM })[0] as Step).body).interactive?.list_reply
      ?.title,
    'Ночная',
  );
  assert.throws(() => planSteps('list', [], { from: FROM }), /takes one id/);
});

test('period: FILL_PERIOD, the dates, the shift (default SHIFT_DAY)', () => {
  assert.equal(kinds(planSteps('period', ['01.11-07.11'], { from: FROM })), [
    'button:FILL_PERIOD',
    'text:01.11-07.11',
    'list:SHIFT_DAY',
  ]);
  assert.equal(kinds(planSteps('period', ['01.11-07.11'], { from: FROM, shift: 'SHIFT_NIGHT' })), [
    'button:FILL_PERIOD',
    'text:01.11-07.11',
    'list:SHIFT_NIGHT',
  ]);
  assert.equal(kinds(planSteps('period', ['с', '01.11', 'по', '07.11'], { from: FROM, shift: 'off' })), [
    'button:FILL_PERIOD',
    'text:с 01.11 по 07.11',
    'list:SHIFT_OFF',
  ]);
  assert.throws(() => planSteps('period', [], { from: FROM }), /needs the dates/);
  assert.throws(
    () => planSteps('period', ['01.11-07.11'], { from: FROM, shift: 'SHIFT_X' }),
    /unknown --shift/,
  );
});

test('status: button MY_STATUS', () => {
  assert.equal(kinds(planSteps('status', [], { from: FROM })), ['button:MY_STATUS']);
  assert.throws(() => planSteps('status', ['x'], { from: FROM }), /takes no arguments/);
});

test('image / sticker / location: unsupported-type messages', () => {
  for (const kind of ['image', 'sticker', 'location']) {
    const steps = planSteps(kind, [], { from: FROM });
    assert.is(steps.length, 1);
    const m = msgOf((steps[0] as Step).body);
    assert.is(m.type, kind);
    assert.is(m.from, FROM);
    assert.ok(m[kind], `${kind} payload present`);
  }
});

test('full: the whole scenario in order, all from the same sender, unique ids', () => {
  const steps = planSteps('full', [], { from: FROM, name: 'Пётр' });
  assert.equal(kinds(steps), FULL);
  for (const s of steps) {
    assert.is(msgOf(s.body).from, FROM);
    assert.equal(changeValue(s.body).contacts?.[0], { profile: { name: 'Пётр' }, wa_id: FROM });
  }
  const ids = steps.map((s) => msgOf(s.body).id);
  assert.is(new Set(ids).size, ids.length);
  assert.throws(() => planSteps('full', ['x'], { from: FROM }), /takes no arguments/);
});

test('curl: text, button, list', () => {
  assert.equal(kinds(planSteps('curl', [], { from: FROM })), [
    'text:меню',
    'button:FILL_TODAY',
    'list:SHIFT_DAY',
  ]);
});

test('unknown command throws', () => {
  assert.throws(() => planSteps('dance', [], { from: FROM }), /unknown command "dance"/);
});

test('describeStep: one-line summary', () => {
  const [step] = planSteps('text', ['меню'], { from: FROM });
  assert.ok(step);
  assert.is(describeStep(step, FROM), `→ text "меню" from ${FROM} (${msgOf(step.body).id})`);
});

// ---------------------------------------------------------------- command line

test('parseCommandLine: defaults, help, env SIM_URL', () => {
  assert.equal(parseCommandLine([]), { kind: 'help' });
  assert.equal(parseCommandLine(['--help']), { kind: 'help' });
  assert.equal(parseCommandLine(['full', '-h']), { kind: 'help' });
  const p = parseCommandLine(['text', 'меню']);
  assert.ok(p.kind === 'run');
  assert.is(p.command, 'text');
  assert.equal(p.args, ['меню']);
  assert.is(p.opts.url, DEFAULT_URL);
  assert.is(p.opts.from, DEFAULT_FROM);
  assert.is(p.opts.pauseMs, DEFAULT_PAUSE_MS);
  assert.is(p.opts.shift, 'SHIFT_DAY');
  assert.equal(p.opts.headers, {});
  const e = parseCommandLine(['status'], { SIM_URL: 'http://localhost:9/' });
  assert.ok(e.kind === 'run');
  assert.is(e.opts.url, 'http://localhost:9');
  const o = parseCommandLine(['status', '--url', 'http://x:1'], { SIM_URL: 'http://localhost:9' });
  assert.ok(o.kind === 'run');
  assert.is(o.opts.url, 'http://x:1');
});

test('parseCommandLine: options', () => {
  const p = parseCommandLine([
    'period',
    '01.11-07.11',
    '--from',
    '+79990000001',
    '--name',
    'Иван',
    '--header',
    'X-Webhook-Secret=a=b',
    '--header=X-Other: v',
    '--shift',
    'SHIFT_NIGHT',
    '--pause',
    '0',
  ]);
  assert.ok(p.kind === 'run', JSON.stringify(p));
  assert.is(p.opts.from, '79990000001');
  assert.is(p.opts.name, 'Иван');
  assert.equal(p.opts.headers, { 'X-Webhook-Secret': 'a=b', 'X-Other': 'v' });
  assert.is(p.opts.shift, 'SHIFT_NIGHT');
  assert.is(p.opts.pauseMs, 0);
});

test('parseCommandLine: errors', () => {
  const bad: [string[], RegExp][] = [
    [['dance'], /unknown command/],
    [['text'], /needs the message text/],
    [['text', 'x', '--from', 'abc'], /--from/],
    [['text', 'x', '--pause', '-1'], /./],
    [['text', 'x', '--pause', 'soon'], /--pause/],
    [['text', 'x', '--header', 'novalue'], /--header/],
    [['text', 'x', '--url', 'not a url'], /--url/],
    [['text', 'x', '--bogus'], /bogus/],
    [['period', '01.11-02.11', '--shift', 'EVENING'], /--shift/],
    [['status', '--shift', 'SHIFT_OFF'], /only applies to the period/],
  ];
  for (const [argv, re] of bad) {
    const p = parseCommandLine(argv);
    assert.is(p.kind, 'error', argv.join(' '));
    if (p.kind === 'error') assert.match(p.message, re, argv.join(' '));
  }
});

test('webhookUrl / renderCurl', () => {
  assert.is(webhookUrl('http://h:1'), 'http://h:1/webhook');
  assert.is(webhookUrl('http://h:1/'), 'http://h:1/webhook');
  assert.is(webhookUrl('http://h:1/webhook'), 'http://h:1/webhook');
  const steps = planSteps('curl', [], { from: FROM, name: "O'Brien" });
  const out = renderCurl(steps, { url: 'http://h:1', headers: { 'X-Secret': 's' } });
  assert.is(out.length, 3);
  for (const c of out) {
    assert.match(c, "curl -sS -i -X POST 'http://h:1/webhook'");
    assert.match(c, "-H 'Content-Type: application/json'");
    assert.match(c, "-H 'X-Secret: s'");
    assert.match(c, `"wa_id":"${FROM}"`);
    assert.match(c, `O'\\''Brien`);
  }
  assert.match(out[1] ?? '', '"id":"FILL_TODAY"');
});

// ---------------------------------------------------------------- gate bot: Telegram

interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
}
interface TgUpdate {
  update_id: number;
  message?: {
    message_id: number;
    from: TgUser;
    chat: { id: number; type: string };
    date: number;
    text?: string;
    entities?: { type: string; offset: number; length: number }[];
    contact?: { phone_number: string; first_name: string; user_id?: number };
  };
  callback_query?: { id: string; from: TgUser; data: string; message: { chat: { id: number } } };
}

function tgOf(step: Step | undefined): TgUpdate {
  assert.ok(step, 'a step');
  assert.is(step.channel, 'telegram');
  return step.body as unknown as TgUpdate;
}

function fieldsOf(step: Step | undefined): Record<string, string> {
  assert.ok(step, 'a step');
  assert.ok(step.channel === 'zadarma', `a zadarma step, got ${step.channel}`);
  return step.body;
}

const one = (command: string, args: string[], opts: Omit<PlanOptions, 'from'> = {}): Step => {
  const steps = planSteps(command, args, { from: FROM, ...opts });
  assert.is(steps.length, 1, `${command} ${args.join(' ')}: one step`);
  return steps[0] as Step;
};

test('tg: a /command carries the bot_command entity; plain text has none', () => {
  const step = one('tg', ['/hvirtka'], { user: 42, name: 'Іван', timestamp: 1700000000 });
  assert.is(step.label, 'tg "/hvirtka"');
  assert.is(step.headers, undefined);
  const u = tgOf(step);
  assert.ok(u.message);
  assert.is(u.message.text, '/hvirtka');
  assert.equal(u.message.entities, [{ offset: 0, length: 8, type: 'bot_command' }]);
  assert.is(u.message.from.id, 42);
  assert.is(u.message.from.is_bot, false);
  assert.is(u.message.from.first_name, 'Іван');
  assert.equal(u.message.chat, { id: 42, first_name: 'Іван', type: 'private' });
  assert.is(u.message.date, 1700000000);

  const text = tgOf(one('tg', ['відкрий', 'хвіртку'], { user: 7 }));
  assert.is(text.message?.text, 'відкрий хвіртку');
  assert.is(text.message?.entities, undefined);
  assert.is(text.message?.from.id, 7);

  assert.is(tgOf(one('tg', ['/start'])).message?.from.id, DEFAULT_TG_USER);
  assert.throws(() => planSteps('tg', [], { from: FROM }), /needs the message text/);
});

test('tg: update ids are unique and increasing, and clock-based so a later run does not reuse them', () => {
  const before = Date.now();
  const ids = [
    ...planSteps('tg', ['/hvirtka'], { from: FROM }),
    ...planSteps('tg', ['/hvirtka'], { from: FROM }),
    ...planSteps('tg-button', ['gate:vorota'], { from: FROM }),
    ...planSteps('tg-contact', [], { from: FROM, phone: '0501112233' }),
  ].map((s) => tgOf(s).update_id);
  assert.is(new Set(ids).size, ids.length);
  for (let i = 1; i < ids.length; i++) assert.ok((ids[i] ?? 0) > (ids[i - 1] ?? 0), `${ids}`);
  assert.ok((ids[0] ?? 0) >= before, 'not below the clock');
  for (const id of ids) assert.ok(Number.isSafeInteger(id));
});

test('tg-button: a callback_query with the data, from the user, in their chat', () => {
  const step = one('tg-button', ['gate:vorota'], { user: 42 });
  assert.is(step.label, 'tg-button gate:vorota');
  const q = tgOf(step).callback_query;
  assert.ok(q);
  assert.is(q.data, 'gate:vorota');
  assert.is(q.from.id, 42);
  assert.is(q.message.chat.id, 42);
  assert.type(q.id, 'string');
  assert.is(tgOf(step).message, undefined);
  assert.throws(() => planSteps('tg-button', [], { from: FROM }), /button data/);
  assert.throws(() => planSteps('tg-button', ['a', 'b'], { from: FROM }), /button data/);
});

test('tg-contact: own card (contact.user_id = sender), a forwarded one, one without user_id', () => {
  const own = one('tg-contact', [], { user: 42, phone: '0501112233' });
  assert.is(own.label, 'tg-contact 0501112233 (own card)');
  const m = tgOf(own).message;
  assert.ok(m?.contact);
  assert.is(m.contact.phone_number, '0501112233');
  assert.is(m.contact.user_id, 42);
  assert.is(m.from.id, 42);

  const same = tgOf(one('tg-contact', [], { user: 42, phone: '0501112233', fromUser: 42 }));
  assert.is(same.message?.contact?.user_id, 42);

  const forwarded = one('tg-contact', [], { user: 42, phone: '0501112233', fromUser: 99 });
  assert.is(forwarded.label, 'tg-contact 0501112233 (card of user 99)');
  assert.is(tgOf(forwarded).message?.contact?.user_id, 99);
  assert.is(tgOf(forwarded).message?.from.id, 42);

  const anonymous = tgOf(one('tg-contact', [], { user: 42, phone: '0501112233', fromUser: null }));
  assert.ok(anonymous.message?.contact);
  assert.not.ok('user_id' in anonymous.message.contact);

  assert.throws(() => planSteps('tg-contact', [], { from: FROM }), /needs --phone/);
  assert.throws(() => planSteps('tg-contact', ['x'], { from: FROM, phone: '1' }), /takes no arguments/);
});

test('tg: the secret token header when a Telegram secret is given', () => {
  for (const [command, args] of [
    ['tg', ['/vorota']],
    ['tg-button', ['gate:hvirtka']],
    ['tg-contact', []],
  ] as const) {
    const step = one(command, [...args], { telegramSecret: 't0p', phone: '0501112233' });
    assert.equal(step.headers, { [TG_SECRET_HEADER]: 't0p' }, command);
  }
});

// ---------------------------------------------------------------- gate bot: Zadarma

const RELAY_H = '380500000001';
const RELAY_V = '380500000002';
const SECRET = 'z-secret-0123456789';

test('zadarma end: NOTIFY_END with the relay as caller_id and our number as called_did', () => {
  const step = one('zadarma', ['end'], { gate: 'hvirtka', disposition: 'cancel', duration: 5, pbx: 'out_1' });
  const f = fieldsOf(step);
  assert.is(f.event, 'NOTIFY_END');
  assert.is(normalisePhone(f.caller_id ?? ''), RELAY_H);
  assert.is(normalisePhone(f.called_did ?? ''), normalisePhone(DEV_CALLER));
  assert.is(f.destination, undefined);
  assert.is(f.pbx_call_id, 'out_1');
  assert.is(f.disposition, 'cancel');
  assert.is(f.duration, '5');
  assert.match(f.call_start ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.ok(f.status_code && f.call_id_with_rec !== undefined && f.is_recorded === '0');
  assert.is(step.headers, undefined, 'unsigned without a secret');
  assert.match(step.label, `zadarma NOTIFY_END hvirtka +${RELAY_H} cancel 5 s`);

  // defaults: cancel, 5 s (the "opened" case), a fresh outgoing pbx_call_id each time
  const a = fieldsOf(one('zadarma', ['end'], { gate: 'vorota' }));
  const b = fieldsOf(one('zadarma', ['end'], { gate: 'vorota' }));
  assert.is(a.disposition, 'cancel');
  assert.is(a.duration, '5');
  assert.is(normalisePhone(a.caller_id ?? ''), RELAY_V);
  assert.match(a.pbx_call_id ?? '', /^out_/);
  assert.is.not(a.pbx_call_id, b.pbx_call_id);
  assert.is(fieldsOf(one('zadarma', ['end'], { gate: 'vorota', duration: 0 })).duration, '0');
});

test('zadarma end: NOTIFY_OUT_END with the relay as destination and our number as internal', () => {
  const f = fieldsOf(
    one('zadarma', ['end'], {
      gate: 'hvirtka',
      event: 'NOTIFY_OUT_END',
      disposition: 'busy',
      duration: 0,
      caller: '100',
    }),
  );
  assert.is(f.event, 'NOTIFY_OUT_END');
  assert.is(normalisePhone(f.destination ?? ''), RELAY_H);
  assert.is(f.internal, '100');
  assert.is.not(normalisePhone(f.caller_id ?? ''), RELAY_H);
  assert.is(f.called_did, undefined);
  assert.is(f.disposition, 'busy');
  assert.is(f.duration, '0');
});

test('zadarma start: NOTIFY_START (relay = caller_id) or NOTIFY_OUT_START (relay = destination)', () => {
  const s = fieldsOf(one('zadarma', ['start'], { gate: 'hvirtka', pbx: 'out_9' }));
  assert.is(s.event, 'NOTIFY_START');
  assert.is(normalisePhone(s.caller_id ?? ''), RELAY_H);
  assert.is(s.pbx_call_id, 'out_9');
  const o = fieldsOf(one('zadarma', ['start'], { gate: 'vorota', event: 'NOTIFY_OUT_START' }));
  assert.is(o.event, 'NOTIFY_OUT_START');
  assert.is(normalisePhone(o.destination ?? ''), RELAY_V);
  assert.is(o.internal, DEV_CALLER);
  assert.throws(() => planSteps('zadarma', ['start'], { from: FROM, gate: 'x' }), /unknown --gate/);
  assert.throws(
    () => planSteps('zadarma', ['start'], { from: FROM, gate: 'hvirtka', event: 'NOTIFY_END' }),
    /--event/,
  );
});

test('zadarma start/end: relays from GATES, --relay overrides, a gate without a relay is an error', () => {
  const gates = parseGates('hvirtka=0637442017,vorota=+380930063585');
  const f = fieldsOf(one('zadarma', ['end'], { gate: 'vorota', gates }));
  assert.is(normalisePhone(f.caller_id ?? ''), '380930063585');
  const r = fieldsOf(one('zadarma', ['end'], { gate: 'vorota', gates, relay: '0671234567' }));
  assert.is(normalisePhone(r.caller_id ?? ''), '380671234567');
  const bare = fieldsOf(one('zadarma', ['start'], { relay: '0671234567' }));
  assert.is(normalisePhone(bare.caller_id ?? ''), '380671234567');
  const ours = fieldsOf(one('zadarma', ['end'], { gate: 'hvirtka', caller: '0441112233' }));
  assert.is(normalisePhone(ours.called_did ?? ''), '380441112233');

  assert.throws(
    () =>
      planSteps('zadarma', ['end'], { from: FROM, gate: 'hvirtka', gates: parseGates('vorota=0500000002') }),
    /no relay number in GATES/,
  );
  assert.throws(() => planSteps('zadarma', ['end'], { from: FROM }), /needs --gate/);
  assert.throws(() => planSteps('zadarma', ['end'], { from: FROM, relay: 'abc' }), /not a phone number/);
  assert.throws(() => parseGates('gate=1'), /GATES must look like/);
  assert.throws(() => planSteps('zadarma', [], { from: FROM }), /needs one of start, end, ivr/);
  assert.throws(() => planSteps('zadarma', ['dance'], { from: FROM }), /got "dance"/);
  assert.throws(
    () => planSteps('zadarma', ['end', 'x'], { from: FROM, gate: 'hvirtka' }),
    /no more arguments/,
  );
});

test('zadarma ivr: NOTIFY_START, then one NOTIFY_IVR per digit, one pbx_call_id', () => {
  const only = planSteps('zadarma', ['ivr'], { from: '0501112233' });
  assert.is(only.length, 1);
  const start = fieldsOf(only[0]);
  assert.is(start.event, 'NOTIFY_START');
  assert.is(normalisePhone(start.caller_id ?? ''), '380501112233');
  assert.match(start.pbx_call_id ?? '', /^in_/);

  const steps = planSteps('zadarma', ['ivr'], { from: '0501112233', digits: ['5', '1'], pbx: 'in_7' });
  assert.equal(
    steps.map((s) => [fieldsOf(s).event, fieldsOf(s)['wait_dtmf[digits]']]),
    [
      ['NOTIFY_START', undefined],
      ['NOTIFY_IVR', '5'],
      ['NOTIFY_IVR', '1'],
    ],
  );
  for (const s of steps) {
    const f = fieldsOf(s);
    assert.is(f.pbx_call_id, 'in_7');
    assert.is(f.caller_id, start.caller_id);
    assert.is(f.called_did, start.called_did);
  }
  assert.is(fieldsOf(steps[1])['wait_dtmf[name]'], 'main_menu');
  assert.is((steps[2] as Step).label, 'zadarma NOTIFY_IVR from +380501112233 digits 1');

  const fresh = planSteps('zadarma', ['ivr'], { from: '0501112233', digits: ['1'] });
  assert.is(fieldsOf(fresh[0]).pbx_call_id, fieldsOf(fresh[1]).pbx_call_id);
  assert.is.not(fieldsOf(fresh[0]).pbx_call_id, start.pbx_call_id);
});

test('zadarma: with a secret every body carries a Signature that verifies', () => {
  const steps = [
    ...planSteps('zadarma', ['ivr'], { from: '0501112233', digits: ['5', '1'], zadarmaSecret: SECRET }),
    ...planSteps('zadarma', ['start'], { from: FROM, gate: 'hvirtka', zadarmaSecret: SECRET }),
    ...planSteps('zadarma', ['start'], {
      from: FROM,
      gate: 'hvirtka',
      event: 'NOTIFY_OUT_START',
      zadarmaSecret: SECRET,
    }),
    ...planSteps('zadarma', ['end'], { from: FROM, gate: 'vorota', zadarmaSecret: SECRET }),
    ...planSteps('zadarma', ['end'], {
      from: FROM,
      gate: 'vorota',
      event: 'NOTIFY_OUT_END',
      zadarmaSecret: SECRET,
    }),
  ];
  assert.is(steps.length, 7);
  for (const s of steps) {
    const f = fieldsOf(s);
    const signature = s.headers?.Signature;
    assert.ok(signature, `${f.event} signed`);
    assert.ok(verifyWebhookSignature(f, signature, SECRET), `${f.event} verifies`);
    assert.not.ok(verifyWebhookSignature(f, signature, 'another-secret'), `${f.event} not with another`);
    // and it still verifies after the round trip through the form encoding
    const wire = Object.fromEntries(
      new URLSearchParams(requestOf(s, { url: DEFAULT_URL, headers: {} }).body),
    );
    assert.equal(wire, f);
    assert.ok(verifyWebhookSignature(wire, signature, SECRET));
    assert.match(describeStep(s), ', signed)');
  }
});

// ---------------------------------------------------------------- requests and URLs

test('requestOf: JSON or form, the right endpoint, step headers, --header wins', () => {
  const opts = { url: 'http://h:1', headers: { 'X-Extra': 'e' } };
  const wa = requestOf(one('text', ['меню']), opts);
  assert.is(wa.url, 'http://h:1/webhook');
  assert.equal(wa.headers, { 'Content-Type': 'application/json', 'X-Extra': 'e' });
  assert.is(JSON.parse(wa.body).object, 'whatsapp_business_account');

  const tgStep = one('tg', ['/hvirtka'], { telegramSecret: 's' });
  const tg = requestOf(tgStep, opts);
  assert.is(tg.url, 'http://h:1/telegram/webhook');
  assert.equal(tg.headers, { 'Content-Type': 'application/json', [TG_SECRET_HEADER]: 's', 'X-Extra': 'e' });
  assert.equal(JSON.parse(tg.body), tgStep.body);

  const zd = requestOf(one('zadarma', ['end'], { gate: 'hvirtka', zadarmaSecret: SECRET }), {
    url: 'http://h:1',
    headers: { Signature: 'forced' },
  });
  assert.is(zd.url, 'http://h:1/zadarma/webhook');
  assert.is(zd.headers['Content-Type'], 'application/x-www-form-urlencoded');
  assert.is(zd.headers.Signature, 'forced');
  assert.match(zd.body, /^event=NOTIFY_END&/);
});

test('endpointUrl: each channel its path; a pasted webhook URL has its path replaced', () => {
  assert.is(endpointUrl('http://h:1', 'telegram'), 'http://h:1/telegram/webhook');
  assert.is(endpointUrl('http://h:1/', 'zadarma'), 'http://h:1/zadarma/webhook');
  assert.is(endpointUrl('https://t.example/webhook', 'zadarma'), 'https://t.example/zadarma/webhook');
  assert.is(
    endpointUrl('https://t.example/zadarma/webhook', 'telegram'),
    'https://t.example/telegram/webhook',
  );
  assert.is(endpointUrl('https://t.example/telegram/webhook', 'whatsapp'), 'https://t.example/webhook');
  assert.is(endpointUrl('https://t.example/base', 'telegram'), 'https://t.example/base/telegram/webhook');
});

test('describeStep: Telegram and Zadarma lines', () => {
  const tgStep = one('tg', ['/hvirtka'], { user: 42 });
  assert.is(describeStep(tgStep), `→ tg "/hvirtka" from user 42 (update ${tgOf(tgStep).update_id})`);
  const btn = one('tg-button', ['gate:vorota'], { user: 5 });
  assert.match(describeStep(btn), /^→ tg-button gate:vorota from user 5 \(update \d+\)$/);
  const zd = one('zadarma', ['end'], { gate: 'hvirtka', pbx: 'out_1' });
  assert.is(describeStep(zd), `→ zadarma NOTIFY_END hvirtka +${RELAY_H} cancel 5 s (pbx out_1)`);
});

test('renderCurl: a form body and the Signature for Zadarma', () => {
  const steps = planSteps('zadarma', ['end'], { from: FROM, gate: 'hvirtka', zadarmaSecret: SECRET });
  const [c] = renderCurl(steps, { url: 'http://h:1', headers: {} });
  assert.match(c ?? '', "'http://h:1/zadarma/webhook'");
  assert.match(c ?? '', "-H 'Content-Type: application/x-www-form-urlencoded'");
  assert.match(c ?? '', `-H 'Signature: ${steps[0]?.headers?.Signature}'`);
  assert.match(c ?? '', "--data-raw 'event=NOTIFY_END&");
});

// ---------------------------------------------------------------- gate bot: command line

test('parseCommandLine: the README spellings', () => {
  const readme = [
    ['tg', '/hvirtka', '--user', '42'],
    ['tg', '/hvirtka', '--user', '42', '--name', 'Іван'],
    ['tg-button', 'gate:vorota', '--user', '42'],
    ['tg-contact', '--user', '42', '--phone', '0501112233'],
    ['tg-contact', '--user', '42', '--phone', '0501112233', '--from-user', '99'],
    ['zadarma', 'end', '--gate', 'hvirtka', '--disposition', 'cancel', '--duration', '5'],
    ['zadarma', 'end', '--gate', 'hvirtka', '--event', 'NOTIFY_OUT_END', '--pbx', 'out_1'],
    ['zadarma', 'start', '--gate', 'hvirtka'],
    ['zadarma', 'ivr', '--from', '0501112233', '--digits', '1'],
    ['zadarma', 'ivr', '--from', '0501112233', '--digits', '5,1'],
    ['zadarma', 'ivr', '--from', '0501112233'],
  ];
  for (const argv of readme) {
    const p = parseCommandLine(argv);
    assert.ok(p.kind === 'run', `${argv.join(' ')}: ${JSON.stringify(p)}`);
  }
  const c = parseCommandLine(['tg-contact', '--user', '42', '--phone', '0501112233', '--from-user', '99']);
  assert.ok(c.kind === 'run');
  assert.is(c.opts.user, 42);
  assert.is(c.opts.phone, '0501112233');
  assert.is(c.opts.fromUser, 99);
  const none = parseCommandLine(['tg-contact', '--phone', '0501112233', '--from-user', 'none']);
  assert.ok(none.kind === 'run');
  assert.is(none.opts.fromUser, null);
  const e = parseCommandLine([
    'zadarma',
    'end',
    '--gate',
    'hvirtka',
    '--event',
    'out_end',
    '--duration',
    '0',
  ]);
  assert.ok(e.kind === 'run');
  assert.is(e.opts.event, 'NOTIFY_OUT_END');
  assert.is(e.opts.duration, 0);
  const d = parseCommandLine(['zadarma', 'ivr', '--from', '0501112233', '--digits', '5, 1']);
  assert.ok(d.kind === 'run');
  assert.equal(d.opts.digits, ['5', '1']);
  assert.equal(
    planSteps(d.command, d.args, d.opts).map((s) => fieldsOf(s).event),
    ['NOTIFY_START', 'NOTIFY_IVR', 'NOTIFY_IVR'],
  );
});

test('parseCommandLine: GATES, ZADARMA_CALLER and the secrets from env; options win', () => {
  const plain = parseCommandLine(['zadarma', 'end', '--gate', 'hvirtka']);
  assert.ok(plain.kind === 'run');
  assert.equal(plain.opts.gates, parseGates('hvirtka=0500000001,vorota=0500000002'));
  assert.is(plain.opts.caller, DEV_CALLER);
  assert.is(plain.opts.zadarmaSecret, undefined);

  const env = {
    GATES: 'hvirtka=0637442017,vorota=0930063585',
    ZADARMA_CALLER: '0441112233',
    ZADARMA_API_SECRET: SECRET,
    TELEGRAM_WEBHOOK_SECRET: 'tg-s',
  };
  const p = parseCommandLine(['zadarma', 'end', '--gate', 'hvirtka'], env);
  assert.ok(p.kind === 'run');
  const [step] = planSteps(p.command, p.args, p.opts);
  const f = fieldsOf(step);
  assert.is(normalisePhone(f.caller_id ?? ''), '380637442017');
  assert.is(normalisePhone(f.called_did ?? ''), '380441112233');
  assert.ok(verifyWebhookSignature(f, step?.headers?.Signature, SECRET));

  const o = parseCommandLine(
    ['zadarma', 'end', '--gate', 'hvirtka', '--secret', 'other', '--relay', '0671234567'],
    env,
  );
  assert.ok(o.kind === 'run');
  const [os] = planSteps(o.command, o.args, o.opts);
  assert.is(normalisePhone(fieldsOf(os).caller_id ?? ''), '380671234567');
  assert.ok(verifyWebhookSignature(fieldsOf(os), os?.headers?.Signature, 'other'));

  const t = parseCommandLine(['tg', '/start'], env);
  assert.ok(t.kind === 'run');
  assert.equal(planSteps(t.command, t.args, t.opts)[0]?.headers, { [TG_SECRET_HEADER]: 'tg-s' });
  const t2 = parseCommandLine(['tg', '/start', '--tg-secret', 'mine'], env);
  assert.ok(t2.kind === 'run');
  assert.equal(planSteps(t2.command, t2.args, t2.opts)[0]?.headers, { [TG_SECRET_HEADER]: 'mine' });

  const empty = parseCommandLine(['tg', '/start'], { TELEGRAM_WEBHOOK_SECRET: ' ', GATES: '' });
  assert.ok(empty.kind === 'run');
  assert.is(empty.opts.telegramSecret, undefined);
  assert.equal(empty.opts.gates, parseGates('hvirtka=0500000001,vorota=0500000002'));
});

test('parseCommandLine: gate bot errors', () => {
  const bad: [string[], RegExp, Record<string, string>?][] = [
    [['tg'], /needs the message text/],
    [['tg', '/x', '--user', 'abc'], /--user/],
    [['tg', '/x', '--user', '0'], /--user/],
    [['tg', '/x', '--from', '380501112233'], /--from only applies to WhatsApp commands and zadarma ivr/],
    [['tg', '/x', '--gate', 'hvirtka'], /--gate only applies to zadarma start and zadarma end/],
    [['text', 'x', '--user', '42'], /--user only applies to tg/],
    [['tg-contact', '--user', '42'], /needs --phone/],
    [['tg-contact', '--phone', '1', '--from-user', 'x'], /--from-user/],
    [['tg-button', 'a', '--phone', '1'], /--phone only applies to tg-contact/],
    [['zadarma'], /needs one of start, end, ivr/],
    [['zadarma', 'end'], /needs --gate/],
    [['zadarma', 'end', '--gate', 'garage'], /unknown --gate/],
    [['zadarma', 'end', '--gate', 'hvirtka', '--duration', '-1'], /--duration/],
    [['zadarma', 'end', '--gate', 'hvirtka', '--duration', 'long'], /--duration/],
    [['zadarma', 'end', '--gate', 'hvirtka', '--event', 'NOTIFY_START'], /--event/],
    [['zadarma', 'start', '--gate', 'hvirtka', '--disposition', 'busy'], /--disposition only applies/],
    [['zadarma', 'end', '--gate', 'hvirtka', '--digits', '1'], /--digits only applies to zadarma ivr/],
    [['zadarma', 'ivr', '--from', '0501112233', '--gate', 'hvirtka'], /--gate only applies/],
    [['zadarma', 'ivr', '--from', '0501112233', '--digits', '1,,2'], /--digits/],
    [['zadarma', 'ivr', '--from', '0501112233', '--digits', 'x'], /--digits/],
    [['zadarma', 'end', '--gate', 'hvirtka', '--from', '0501112233'], /--from only applies/],
    [['zadarma', 'end', '--gate', 'hvirtka'], /GATES must look like/, { GATES: 'hvirtka' }],
    [['zadarma', 'end', '--gate', 'hvirtka'], /no relay number/, { GATES: 'vorota=0500000002' }],
    [['text', 'x', '--secret', 's'], /--secret only applies to zadarma/],
  ];
  for (const [argv, re, env] of bad) {
    const p = parseCommandLine(argv, env);
    assert.is(p.kind, 'error', argv.join(' '));
    if (p.kind === 'error') assert.match(p.message, re, argv.join(' '));
  }
});

// ---------------------------------------------------------------- end to end

interface Recorded {
  path: string;
  headers: IncomingHttpHeaders;
  body: WebhookBody;
}

async function startRecorder(status = 200): Promise<{ url: string; got: Recorded[]; server: Server }> {
  const got: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookBody,
      });
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok: status < 300, n: got.length }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, got, server };
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await close(s);
  return port;
}

/** The simulator's settings emptied (the service's and its own SIM_URL), so this shell does not leak in. */
const CLEAN_ENV = { ...BLANK_ENV, SIM_URL: '' };

function runSimulate(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'scripts/simulate.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...CLEAN_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('e2e: full scenario is POSTed in order to /webhook with the extra header', async () => {
  const rec = await startRecorder();
  try {
    const r = await runSimulate([
      'full',
      '--url',
      rec.url,
      '--pause',
      '0',
      '--from',
      FROM,
      '--header',
      'X-Webhook-Secret=s3cret',
    ]);
    assert.is(r.code, 0, r.stderr);
    assert.equal(
      rec.got.map((g) => kindOf(g.body)),
      FULL,
    );
    for (const g of rec.got) {
      assert.is(g.path, '/webhook');
      assert.is(g.headers['x-webhook-secret'], 's3cret');
      assert.match(String(g.headers['content-type']), 'application/json');
      assert.is(msgOf(g.body).from, FROM);
    }
    const sent = r.stdout.split('\n').filter((l) => l.startsWith('→ '));
    const answers = r.stdout.split('\n').filter((l) => l.startsWith('← '));
    assert.is(sent.length, FULL.length);
    assert.is(answers.length, FULL.length);
    assert.match(sent[0] ?? '', `→ text "меню" from ${FROM} (wamid.`);
    assert.match(answers[0] ?? '', '← 200 OK {"ok":true,"n":1}');
  } finally {
    await close(rec.server);
  }
});

test('e2e: a non-2xx answer is printed and makes the exit code 1', async () => {
  const rec = await startRecorder(401);
  try {
    const r = await runSimulate(['period', '01.11-02.11', '--url', rec.url, '--pause', '0']);
    assert.is(r.code, 1);
    assert.is(rec.got.length, 3);
    assert.match(r.stderr, '← 401 Unauthorized');
  } finally {
    await close(rec.server);
  }
});

test('e2e: unreachable server gives exit code 1 and a clear message', async () => {
  const port = await freePort();
  const r = await runSimulate(['text', 'меню', '--url', `http://127.0.0.1:${port}`]);
  assert.is(r.code, 1);
  assert.match(r.stderr, `cannot reach http://127.0.0.1:${port}/webhook: is the server running?`);
  assert.match(r.stderr, 'npm start');
});

test('e2e: curl sends nothing and prints commands', async () => {
  const rec = await startRecorder();
  try {
    const r = await runSimulate(['curl', '--url', rec.url, '--from', FROM]);
    assert.is(r.code, 0, r.stderr);
    assert.is(rec.got.length, 0);
    assert.is(r.stdout.match(/^curl /gm)?.length, 3);
    assert.match(r.stdout, `${rec.url}/webhook`);
  } finally {
    await close(rec.server);
  }
});

test('e2e: the gate bot in the real service: contact, /hvirtka, the callback ends, the voice menu', async () => {
  const svc = await startTestService({ ALLOWED_PHONES: '0501112233' });
  const sim = async (args: string[]) => {
    const r = await runSimulate([...args, '--url', svc.url, '--pause', '0']);
    assert.is(r.code, 0, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
    return r;
  };
  const printedWith = (what: string) =>
    eventually(() => svc.printed.some((t) => t.includes(what)), 10_000, `"${what}" printed`);
  try {
    const contact = await sim(['tg-contact', '--user', '42', '--phone', '0501112233']);
    assert.match(contact.stdout, /→ tg-contact 0501112233 \(own card\) from user 42 \(update \d+\)/);
    assert.match(contact.stdout, '← 200 OK {}');

    await sim(['tg', '/hvirtka', '--user', '42']);
    // the callback is requested through the outbox, after the update is committed
    await printedWith('[zadarma dry-run] callback from 0733103110 to 380500000001');

    const end = await sim([
      'zadarma',
      'end',
      '--gate',
      'hvirtka',
      '--disposition',
      'cancel',
      '--duration',
      '5',
    ]);
    assert.match(end.stdout, '→ zadarma NOTIFY_END hvirtka +380500000001 cancel 5 s (pbx out_');
    assert.match(end.stdout, '← 200 OK {"status":"ok"}');
    await printedWith('Хвіртка відчинено');

    const ivr = await sim(['zadarma', 'ivr', '--from', '0501112233', '--digits', '1']);
    const answers = ivr.stdout.split('\n').filter((l) => l.startsWith('← '));
    assert.is(answers.length, 2, ivr.stdout);
    assert.match(answers[0] ?? '', '"wait_dtmf"');
    assert.match(answers[1] ?? '', 'Відкриваємо ворота');
    assert.match(answers[1] ?? '', '"hangup":1');
  } finally {
    await svc.stop();
  }
});

test('e2e: with the webhook secrets set, signed requests pass and unsigned ones get 401', async () => {
  const secrets = { ZADARMA_API_SECRET: SECRET, TELEGRAM_WEBHOOK_SECRET: 'tg-secret-1' };
  const svc = await startTestService({ ALLOWED_PHONES: '0501112233', ...secrets });
  try {
    const url = ['--url', svc.url, '--pause', '0'];
    const ivr = await runSimulate(
      ['zadarma', 'ivr', '--from', '0501112233', '--digits', '2', ...url],
      secrets,
    );
    assert.is(ivr.code, 0, ivr.stderr);
    assert.match(ivr.stdout, ', signed)');
    assert.match(ivr.stdout, 'Відкриваємо хвіртку');
    const tg = await runSimulate(['tg', '/start', '--user', '42', ...url], secrets);
    assert.is(tg.code, 0, tg.stderr);
    await eventually(() => svc.printed.some((t) => t.includes('[telegram dry-run → chat 42]')), 10_000);

    const unsigned = await runSimulate(['zadarma', 'ivr', '--from', '0501112233', ...url]);
    assert.is(unsigned.code, 1);
    assert.match(unsigned.stderr, '← 401 Unauthorized');
    const wrong = await runSimulate(['tg', '/start', '--user', '42', '--tg-secret', 'nope', ...url]);
    assert.is(wrong.code, 1);
    assert.match(wrong.stderr, '← 401 Unauthorized');
  } finally {
    await svc.stop();
  }
});

test.run();
