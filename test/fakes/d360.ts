/**
 * Fake 360dialog (v2 / Cloud API) HTTP server on loopback, following the documented wire format
 * (docs/protocols/whatsapp.md: #registering-the-webhook, #sending-messages, #limits,
 * #error-answers-of-the-send-api):
 *
 * - POST /messages: D360-API-KEY check (401 360dialog-style body), JSON body validated against the
 *   documented limits (400 Meta-shaped `(#100) Invalid parameter` error naming the problem), 200 with
 *   `{messaging_product, contacts:[{input,wa_id}], messages:[{id:'wamid.…'}]}` on success.
 * - GET/POST /v1/configs/webhook: read / store `{url, headers}`.
 *
 * Lengths are counted in Unicode code points.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyServer, closeServer, listenLoopback, pollUntil, resetOrHang } from './shared';

/** A parsed JSON body, loosely typed so tests can poke into it. */
// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are inspected freely by tests
export type Json = any;

export interface FakeRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** parsed JSON; the raw string when it is not JSON; undefined when empty */
  body: Json;
  /** Date.now() when the request body was received */
  at: number;
  /** HTTP status answered; 0 for a `hang` (no answer yet) or `reset` (socket destroyed) */
  response: number;
}

export interface FailAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  hang?: boolean;
  reset?: boolean;
}

export interface FakeD360 {
  url: string;
  requests: FakeRequest[];
  /** bodies of the POST /messages that were answered 2xx, in order */
  sent(): Json[];
  /** queue answers for the next POST /messages calls, in order; afterwards normal behaviour resumes */
  failNext(...answers: FailAnswer[]): void;
  /** polls until pred(sent()) holds; rejects with a clear message on timeout (default 5000 ms) */
  waitFor(pred: (sent: Json[]) => boolean, timeoutMs?: number): Promise<Json[]>;
  close(): Promise<void>;
}

export const LIMITS = {
  textBody: 4096,
  buttonsMax: 3,
  buttonTitle: 20,
  buttonId: 256,
  interactiveBody: 1024,
  footer: 60,
  headerText: 60,
  listButton: 20,
  sectionsMax: 10,
  rowsMax: 10,
  rowTitle: 24,
  rowDescription: 72,
  rowId: 200,
  sectionTitle: 24,
} as const;

/** Unicode code point length. */
export function cpLen(s: string): number {
  let n = 0;
  for (const _ of s) n += 1;
  return n;
}

class Invalid extends Error {}

function fail(details: string): never {
  throw new Invalid(details);
}

function isObj(v: unknown): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkText(path: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'string') fail(`${path}: required string is missing`);
  const n = cpLen(v);
  if (n < min || n > max) fail(`${path}: must be ${min}..${max} characters, got ${n}`);
}

function checkOptionalTextObj(path: string, v: unknown, max: number): void {
  if (v === undefined) return;
  if (!isObj(v)) fail(`${path}: must be an object`);
  checkText(`${path}.text`, v.text, 1, max);
}

function checkButtons(i: Record<string, Json>): void {
  const buttons = i.action?.buttons;
  if (!Array.isArray(buttons)) fail('interactive.action.buttons: required array is missing');
  if (buttons.length < 1 || buttons.length > LIMITS.buttonsMax) {
    fail(`interactive.action.buttons: must have 1..${LIMITS.buttonsMax} buttons, got ${buttons.length}`);
  }
  const titles = new Set<string>();
  const ids = new Set<string>();
  buttons.forEach((b: unknown, k: number) => {
    const p = `interactive.action.buttons[${k}]`;
    if (!isObj(b)) fail(`${p}: must be an object`);
    if (b.type !== 'reply') fail(`${p}.type: must be 'reply'`);
    if (!isObj(b.reply)) fail(`${p}.reply: required object is missing`);
    checkText(`${p}.reply.id`, b.reply.id, 1, LIMITS.buttonId);
    checkText(`${p}.reply.title`, b.reply.title, 1, LIMITS.buttonTitle);
    if (titles.has(b.reply.title)) fail(`${p}.reply.title: duplicate button title '${b.reply.title}'`);
    if (ids.has(b.reply.id)) fail(`${p}.reply.id: duplicate button id '${b.reply.id}'`);
    titles.add(b.reply.title);
    ids.add(b.reply.id);
  });
  if (i.header !== undefined) {
    if (!isObj(i.header)) fail('interactive.header: must be an object');
    const ht = i.header.type;
    if (!['text', 'image', 'video', 'document'].includes(ht)) {
      fail(`interactive.header.type: must be text, image, video or document, got ${JSON.stringify(ht)}`);
    }
    if (ht === 'text') checkText('interactive.header.text', i.header.text, 1, LIMITS.headerText);
  }
}

function checkList(i: Record<string, Json>): void {
  const action = i.action;
  if (!isObj(action)) fail('interactive.action: required object is missing');
  checkText('interactive.action.button', action.button, 1, LIMITS.listButton);
  const sections = action.sections;
  if (!Array.isArray(sections)) fail('interactive.action.sections: required array is missing');
  if (sections.length < 1 || sections.length > LIMITS.sectionsMax) {
    fail(`interactive.action.sections: must have 1..${LIMITS.sectionsMax} sections, got ${sections.length}`);
  }
  let rows = 0;
  const ids = new Set<string>();
  sections.forEach((s: unknown, k: number) => {
    const p = `interactive.action.sections[${k}]`;
    if (!isObj(s)) fail(`${p}: must be an object`);
    if (sections.length > 1 || s.title !== undefined) {
      checkText(`${p}.title`, s.title, 1, LIMITS.sectionTitle);
    }
    if (!Array.isArray(s.rows) || s.rows.length < 1) fail(`${p}.rows: must have at least 1 row`);
    s.rows.forEach((r: unknown, j: number) => {
      const rp = `${p}.rows[${j}]`;
      if (!isObj(r)) fail(`${rp}: must be an object`);
      checkText(`${rp}.id`, r.id, 1, LIMITS.rowId);
      checkText(`${rp}.title`, r.title, 1, LIMITS.rowTitle);
      if (r.description !== undefined)
        checkText(`${rp}.description`, r.description, 0, LIMITS.rowDescription);
      if (ids.has(r.id)) fail(`${rp}.id: duplicate row id '${r.id}'`);
      ids.add(r.id);
    });
    rows += s.rows.length;
  });
  if (rows > LIMITS.rowsMax) {
    fail(`interactive.action.sections: at most ${LIMITS.rowsMax} rows in all sections combined, got ${rows}`);
  }
  if (i.header !== undefined) {
    if (!isObj(i.header) || i.header.type !== 'text')
      fail("interactive.header.type: a list header must be 'text'");
    checkText('interactive.header.text', i.header.text, 1, LIMITS.headerText);
  }
}

/** Throws Invalid with a description of the first problem found. */
export function validateMessage(body: unknown): void {
  if (!isObj(body)) fail('request body must be a JSON object');
  if (body.messaging_product !== 'whatsapp') fail("messaging_product: must be 'whatsapp'");
  if (body.recipient_type !== undefined && body.recipient_type !== 'individual') {
    fail("recipient_type: must be 'individual'");
  }
  if (typeof body.to !== 'string' || body.to.trim() === '') fail('to: required string is missing');
  switch (body.type) {
    case 'text': {
      if (!isObj(body.text)) fail('text: required object is missing');
      checkText('text.body', body.text.body, 1, LIMITS.textBody);
      return;
    }
    case 'interactive': {
      const i = body.interactive;
      if (!isObj(i)) fail('interactive: required object is missing');
      if (!isObj(i.body)) fail('interactive.body: required object is missing');
      checkText('interactive.body.text', i.body.text, 1, LIMITS.interactiveBody);
      checkOptionalTextObj('interactive.footer', i.footer, LIMITS.footer);
      if (i.type === 'button') checkButtons(i);
      else if (i.type === 'list') checkList(i);
      else fail(`interactive.type: must be 'button' or 'list', got ${JSON.stringify(i.type)}`);
      return;
    }
    case 'template': {
      const t = body.template;
      if (!isObj(t)) fail('template: required object is missing');
      if (typeof t.name !== 'string' || t.name === '') fail('template.name: required string is missing');
      if (!isObj(t.language) || typeof t.language.code !== 'string' || t.language.code === '') {
        fail('template.language.code: required string is missing');
      }
      if (t.components !== undefined && !Array.isArray(t.components))
        fail('template.components: must be an array');
      return;
    }
    default:
      fail(`type: must be text, interactive or template, got ${JSON.stringify(body.type)}`);
  }
}

function metaError(details: string): unknown {
  return {
    error: {
      message: '(#100) Invalid parameter',
      type: 'OAuthException',
      code: 100,
      error_data: { messaging_product: 'whatsapp', details },
      fbtrace_id: randomBytes(12).toString('base64url'),
    },
  };
}

function d360Error(status: number, developer_message: string): unknown {
  return { meta: { success: false, http_code: status, developer_message } };
}

function defaultFailBody(status: number): unknown {
  const msg =
    status === 401
      ? 'Invalid api_key'
      : status === 429 || status === 400
        ? 'You have exceeded the endpoint rate limit'
        : status >= 500
          ? 'Internal server error'
          : `Fake failure ${status}`;
  return d360Error(status, msg);
}

export async function startFakeD360(opts: { apiKey: string }): Promise<FakeD360> {
  const requests: FakeRequest[] = [];
  const sentBodies: Json[] = [];
  const queue: FailAnswer[] = [];
  const pending = new Set<ServerResponse>();
  let webhook: { url: string; headers: Record<string, string> } | undefined;
  let seq = 0;

  const send = (
    rec: FakeRequest,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => {
    rec.response = status;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(text);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let body: Json;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const rec: FakeRequest = {
      method: req.method ?? '',
      path,
      headers: { ...req.headers },
      body,
      at: Date.now(),
      response: 0,
    };
    requests.push(rec);

    const isMessages = path === '/messages' && req.method === 'POST';
    if (isMessages) {
      const answer = queue.shift();
      if (answer) {
        if (resetOrHang(answer, req, res, pending)) return;
        const b = answer.body === undefined ? defaultFailBody(answer.status) : answer.body;
        if (answer.status >= 200 && answer.status < 300) sentBodies.push(body);
        send(rec, res, answer.status, b, answer.headers);
        return;
      }
    }

    const isWebhook = path === '/v1/configs/webhook' && (req.method === 'GET' || req.method === 'POST');
    if (!isMessages && !isWebhook) {
      send(rec, res, 404, d360Error(404, `Unknown endpoint ${req.method} ${path}`));
      return;
    }
    if (req.headers['d360-api-key'] !== opts.apiKey) {
      send(rec, res, 401, d360Error(401, 'Invalid api_key'));
      return;
    }
    const ctype = String(req.headers['content-type'] ?? '');
    const needsJson = req.method === 'POST';
    if (needsJson && !/^application\/json\s*(;|$)/i.test(ctype)) {
      send(rec, res, 400, metaError(`Content-Type must be application/json, got '${ctype}'`));
      return;
    }
    if (needsJson && typeof body !== 'object') {
      send(rec, res, 400, metaError('request body is not valid JSON'));
      return;
    }

    if (isWebhook) {
      if (req.method === 'GET') {
        send(rec, res, 200, webhook ?? {});
        return;
      }
      if (!isObj(body) || typeof body.url !== 'string' || body.url === '') {
        send(rec, res, 400, d360Error(400, 'url: required string is missing'));
        return;
      }
      if (body.headers !== undefined && !isObj(body.headers)) {
        send(rec, res, 400, d360Error(400, 'headers: must be an object'));
        return;
      }
      webhook = { url: body.url, headers: { ...(body.headers ?? {}) } };
      send(rec, res, 200, webhook);
      return;
    }

    try {
      validateMessage(body);
    } catch (e) {
      if (e instanceof Invalid) {
        send(rec, res, 400, metaError(e.message));
        return;
      }
      throw e;
    }
    seq += 1;
    const wamid = `wamid.FAKE${randomBytes(6).toString('hex').toUpperCase()}${String(seq).padStart(5, '0')}`;
    sentBodies.push(body);
    send(rec, res, 200, {
      messaging_product: 'whatsapp',
      contacts: [{ input: body.to, wa_id: body.to }],
      messages: [{ id: wamid }],
    });
  };

  const server = bodyServer(
    (req, res, raw) => handle(req, res, raw.toString('utf8')),
    (e) => d360Error(500, `fake crashed: ${String(e)}`),
  );

  const url = await listenLoopback(server);

  let closed: Promise<void> | undefined;

  return {
    url,
    requests,
    sent: () => [...sentBodies],
    failNext: (...answers) => {
      queue.push(...answers);
    },
    waitFor: (pred, timeoutMs = 5000) =>
      pollUntil(
        () => [...sentBodies],
        pred,
        timeoutMs,
        (s) => {
          const last = s
            .slice(-3)
            .map((b) => JSON.stringify(b).slice(0, 300))
            .join('\n  ');
          return (
            `FakeD360.waitFor: condition not met within ${timeoutMs} ms; ` +
            `${s.length} message(s) sent, ${requests.length} request(s) seen` +
            (last ? `; last sent:\n  ${last}` : '')
          );
        },
      ),
    close: () => {
      closed ??= closeServer(server, pending);
      return closed;
    },
  };
}
