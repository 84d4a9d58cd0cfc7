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
  messageIdOf,
  parseCommandLine,
  planSteps,
  renderCurl,
  type Step,
  UsageError,
  webhookUrl,
} from '../scripts/simulate-args';

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

function runSimulate(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'scripts/simulate.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, SIM_URL: '' },
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

test.run();
