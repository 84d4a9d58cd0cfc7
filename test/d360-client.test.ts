/**
 * The 360dialog client's transport (keep-alive node:http/https pool) against real loopback servers:
 * connections are reused, a dropped one is a retried network error, the caller's signal and the
 * 10 s timeout cut an exchange off at any point, and idle connections never keep a process alive.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sendD360 } from '../server/channels/whatsapp/d360-client';
import { bodyServer, closeServer, listenLoopback } from './fakes/shared';

const KEY = 'key-1';
const text = (to: string, body = 'hi') => ({
  messaging_product: 'whatsapp',
  to,
  type: 'text',
  text: { body },
});

interface Seen {
  url: string;
  server: Server;
  connections: number;
  requests: Array<{ headers: IncomingMessage['headers']; body: string }>;
  close(): Promise<void>;
}

/** A loopback server counting connections; `answer` handles each request (default: a 200 with a wamid). */
async function serve(answer?: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<Seen> {
  const seen = { connections: 0, requests: [] } as unknown as Seen;
  const server = bodyServer(
    (req, res, body) => {
      seen.requests.push({ headers: req.headers, body: body.toString('utf8') });
      const n = seen.requests.length;
      if (answer) answer(req, res, n);
      else ok(res, n);
    },
    (e) => ({ error: String(e) }),
  );
  server.keepAliveTimeout = 60_000;
  server.on('connection', () => {
    seen.connections++;
  });
  seen.url = await listenLoopback(server);
  seen.server = server;
  seen.close = () => closeServer(server, new Set());
  return seen;
}

function ok(res: ServerResponse, n: number): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ messaging_product: 'whatsapp', messages: [{ id: `wamid.T${n}` }] }));
}

test('connections are kept alive and reused; headers and body as documented', async () => {
  const s = await serve();
  try {
    for (let i = 0; i < 10; i++) {
      const r = await sendD360(s.url, KEY, text('79001112233', `привет ${i}`));
      assert.equal(r, { outcome: { ok: true }, messageId: `wamid.T${i + 1}` });
    }
    assert.is(s.connections, 1, 'ten sends one after another share one connection');
    const first = s.requests[0];
    assert.is(first?.headers['d360-api-key'], KEY);
    assert.is(first?.headers['content-type'], 'application/json');
    assert.is(Number(first?.headers['content-length']), Buffer.byteLength(first?.body ?? ''));
    assert.equal(JSON.parse(first?.body ?? ''), text('79001112233', 'привет 0'));

    const many = await Promise.all(
      Array.from({ length: 40 }, (_, i) => sendD360(s.url, KEY, text(`7900${i}`))),
    );
    assert.ok(many.every((r) => r.outcome.ok));
    assert.ok(s.connections < 50, `${s.connections} connections for 50 requests`);
  } finally {
    await s.close();
  }
});

test('a kept-alive connection reset by the server: a network error (retried), then a new connection works', async () => {
  const s = await serve((req, res, n) => {
    if (n === 2) req.socket.destroy();
    else ok(res, n);
  });
  try {
    assert.ok((await sendD360(s.url, KEY, text('1'))).outcome.ok);
    const reset = await sendD360(s.url, KEY, text('2'));
    assert.ok(!reset.outcome.ok && !reset.outcome.permanent, 'retried, not dead-lettered');
    assert.match(!reset.outcome.ok ? reset.outcome.error : '', /^network: /);
    assert.ok((await sendD360(s.url, KEY, text('3'))).outcome.ok);
    assert.is(s.connections, 2);
  } finally {
    await s.close();
  }
});

test('the server closing an idle kept-alive connection does not fail the next send', async () => {
  const s = await serve();
  s.server.keepAliveTimeout = 100;
  try {
    assert.ok((await sendD360(s.url, KEY, text('1'))).outcome.ok);
    await new Promise((r) => setTimeout(r, 400));
    assert.ok((await sendD360(s.url, KEY, text('2'))).outcome.ok);
    assert.is(s.connections, 2);
  } finally {
    await s.close();
  }
});

test("the caller's signal cuts a hanging send off at once; an aborted signal sends nothing", async () => {
  const s = await serve(() => {
    /* never answers */
  });
  try {
    const ctl = new AbortController();
    const pending = sendD360(s.url, KEY, text('1'), ctl.signal);
    while (s.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const t0 = Date.now();
    ctl.abort();
    const r = await pending;
    assert.ok(Date.now() - t0 < 1000, 'at once');
    assert.equal(r.outcome, { ok: false, permanent: false, error: 'network: This operation was aborted' });

    const again = await sendD360(s.url, KEY, text('2'), ctl.signal);
    assert.equal(again.outcome, {
      ok: false,
      permanent: false,
      error: 'network: This operation was aborted',
    });
    assert.is(s.requests.length, 1, 'nothing sent with an aborted signal');
  } finally {
    await s.close();
  }
});

test('one signal shared by 100 hanging sends (more than the 64 pooled connections): all cut off, no listener warning', async () => {
  const s = await serve(() => {
    /* never answers */
  });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    const ctl = new AbortController();
    const all = Array.from({ length: 100 }, (_, i) => sendD360(s.url, KEY, text(`${i}`), ctl.signal));
    while (s.requests.length < 64) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 100));
    assert.is(s.requests.length, 64, 'at most 64 at a time');
    ctl.abort();
    const results = await Promise.all(all);
    assert.ok(
      results.every((r) => !r.outcome.ok && r.outcome.error === 'network: This operation was aborted'),
    );
    await new Promise((r) => setImmediate(r));
    assert.equal(warnings, []);
  } finally {
    process.off('warning', onWarning);
    await s.close();
  }
});

test('an https base URL is spoken to over TLS', async () => {
  let first: number | undefined;
  const tcp = createTcpServer((socket) => {
    socket.once('data', (d: Buffer) => {
      first = d[0];
      socket.destroy();
    });
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  try {
    const r = await sendD360(`https://127.0.0.1:${(tcp.address() as AddressInfo).port}`, KEY, text('1'));
    assert.ok(!r.outcome.ok && !r.outcome.permanent);
    assert.is(first, 0x16, 'a TLS handshake record');
  } finally {
    tcp.close();
  }
});

test('idle kept-alive connections do not keep a process alive', async () => {
  const s = await serve();
  try {
    const script = `import { sendD360 } from './server/channels/whatsapp/d360-client.ts';
      const r = await sendD360(${JSON.stringify(s.url)}, 'k', ${JSON.stringify(text('1'))});
      process.stdout.write(JSON.stringify(r));`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const t0 = Date.now();
    const code = await Promise.race([
      new Promise<number | null>((r) => child.on('exit', r)),
      new Promise<'stuck'>((r) => setTimeout(() => r('stuck'), 8000)),
    ]);
    if (code === 'stuck') child.kill('SIGKILL');
    assert.is(code, 0, 'the process exits by itself');
    assert.match(out, '"ok":true');
    assert.is(s.connections, 1);
    assert.ok(Date.now() - t0 < 8000);
  } finally {
    await s.close();
  }
});

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

test('a body that hangs after the head times out after 10 s: a 2xx head counts as sent, any other is retried', async () => {
  const s = await serve((_req, res, n) => {
    res.writeHead(n === 1 ? 200 : 500, { 'content-type': 'application/json' });
    res.write('{"messages":[');
  });
  const collect = setInterval(gc, 100);
  const t0 = Date.now();
  try {
    const sent = sendD360(s.url, KEY, text('1'));
    while (s.requests.length < 1) await new Promise((r) => setTimeout(r, 5));
    const failed = sendD360(s.url, KEY, text('2'));
    const [a, b] = await Promise.all([sent, failed]);
    assert.ok(Date.now() - t0 >= 9_500, 'after the 10 s timeout');
    assert.equal(a, { outcome: { ok: true }, messageId: undefined });
    assert.equal(b.outcome, {
      ok: false,
      permanent: false,
      error: 'network: The operation was aborted due to timeout',
    });
  } finally {
    clearInterval(collect);
    await s.close();
  }
});

test.run();
