/**
 * Fake Zadarma REST API on loopback, following the documented wire format
 * (docs/protocols/zadarma.md: #rest-signatures, #requesting-a-callback, #setting-up-notifications,
 * #errors-rate-limits-and-retries; zadarma/openapi spec/v1/openapi.json):
 *
 * - Every call must carry `Authorization: <key>:<signature>`; the fake recomputes the signature over
 *   the received params (GET: query string; POST/PUT/DELETE: x-www-form-urlencoded body) with the
 *   same algorithm (ksort + RFC 1738 http_build_query, `path + query + md5(query)`, hex HMAC-SHA1,
 *   base64). Wrong/missing → 401 `{"status":"error","message":"Auth error"}`.
 * - GET  /v1/request/callback/      → `{"status":"success","from","to","time"}` (records the callback)
 * - GET  /v1/info/balance/          → `{"status":"success","balance","currency"}`
 * - GET  /v1/pbx/callinfo/          → `{"status":"success","url","notifications":{notify_*:"true"|"false"}}`
 * - POST /v1/pbx/callinfo/url/ {url} → `{"status":"success","url"}`; DELETE → url ''
 * - POST /v1/pbx/callinfo/notifications/ {notify_*} → `{"status":"success","notifications"}`
 * - 100 requests/min → 429 `{"status":"error","message":"You exceeded the rate limit"}` (documented
 *   general limit; configurable).
 *
 * Errors are always `{"status":"error","message":…}`. Messages Zadarma does not document are marked
 * (invented) below.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildQuery, restSignature } from '../../server/channels/zadarma/sign';
import { bodyServer, closeServer, listenLoopback, pollUntil, resetOrHang } from './shared';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are inspected freely by tests
export type Json = any;

export interface ZadarmaRequest {
  method: string;
  path: string;
  /** raw query string (without '?') */
  query: string;
  /** decoded params the signature was checked over (query for GET, form body otherwise) */
  params: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** raw body text ('' when none) */
  body: string;
  at: number;
  /** HTTP status answered; 0 for a `hang` (no answer yet) or `reset` (socket destroyed) */
  response: number;
  /** the JSON answered, when any */
  answer?: Json;
}

export interface ZadarmaFailAnswer {
  status: number;
  /** full JSON body; default `{"status":"error","message": message ?? a per-status default}` */
  body?: unknown;
  message?: string;
  headers?: Record<string, string>;
  /** never answer (until close()) */
  hang?: boolean;
  /** destroy the socket */
  reset?: boolean;
  /** only consume this answer on a request to this path (e.g. '/v1/request/callback/') */
  path?: string;
}

export interface CallbackRecord {
  from: string;
  to: string;
  sip?: string;
  predicted?: string;
  /** unix seconds answered as `time` */
  time: number;
  /** Date.now() when accepted */
  at: number;
  /** all params received (including format) */
  params: Record<string, string>;
}

export interface CallinfoState {
  url: string;
  notifications: Record<NotifyKey, 'true' | 'false'>;
}

type NotifyKey =
  | 'notify_start'
  | 'notify_internal'
  | 'notify_end'
  | 'notify_out_start'
  | 'notify_out_end'
  | 'notify_answer';
const NOTIFY_KEYS: readonly NotifyKey[] = [
  'notify_start',
  'notify_internal',
  'notify_end',
  'notify_out_start',
  'notify_out_end',
  'notify_answer',
];

export interface FakeZadarma {
  /** base URL, e.g. http://127.0.0.1:PORT (use as the API root instead of https://api.zadarma.com) */
  url: string;
  requests: ZadarmaRequest[];
  /** callbacks accepted (answered success), in order */
  callbacks(): CallbackRecord[];
  /** called synchronously for each accepted callback (e.g. to script the webhooks that follow) */
  onCallback(listener: (cb: CallbackRecord) => void): () => void;
  /** queue answers for the next API calls (any path unless `path` is set), in order */
  failNext(...answers: ZadarmaFailAnswer[]): void;
  setBalance(balance: number, currency?: string): void;
  /** current notification URL and toggles (as GET /v1/pbx/callinfo/ would answer) */
  callinfo(): CallinfoState;
  /** polls until pred(callbacks()) holds; rejects on timeout (default 5000 ms) */
  waitFor(pred: (callbacks: CallbackRecord[]) => boolean, timeoutMs?: number): Promise<CallbackRecord[]>;
  close(): Promise<void>;
}

export interface FakeZadarmaOptions {
  key: string;
  secret: string;
  /** initial balance (default 10.34 USD, the OpenAPI example) */
  balance?: number;
  currency?: string;
  /** requests per rolling minute before 429; default 100 (documented); 0 disables */
  rateLimitPerMinute?: number;
  /** `time` answered by callback (default: now) */
  now?: () => number;
}

/** OpenAPI patterns (request.callback). */
const FROM_RE = /^(\+?[0-9]{7,15}|[0-9]{3,5})$/;
const TO_RE = /^(\+?[0-9]{7,15}|[0-9]{5})$/;
const SIP_RE = /^([0-9]{5}|[0-9]{3})$/;

const MSG = {
  auth: 'Auth error', // OpenAPI global 401 example
  rate: 'You exceeded the rate limit', // OpenAPI global 429 example
  notFound: 'Method not found', // (invented) unknown path
  wrongMethod: 'Wrong request method', // (invented) issue #8 says 404 or 400 for a wrong HTTP method
  badParam: (p: string) => `Wrong parameter '${p}'`, // (invented) callback-specific messages are UNVERIFIED
  server: 'Internal server error', // (invented)
};

function defaultFailMessage(status: number): string {
  if (status === 401) return MSG.auth;
  if (status === 429) return MSG.rate;
  if (status === 404) return MSG.notFound;
  if (status === 400) return "Check phone's number"; // OpenAPI 400 example (pbx/redirection)
  if (status >= 500) return MSG.server;
  return `Fake failure ${status}`;
}

type Route = 'callback' | 'balance' | 'callinfo' | 'callinfoUrl' | 'notifications';
const ROUTES: Record<string, { route: Route; methods: string[] }> = {
  '/v1/request/callback/': { route: 'callback', methods: ['GET'] },
  '/v1/info/balance/': { route: 'balance', methods: ['GET'] },
  '/v1/pbx/callinfo/': { route: 'callinfo', methods: ['GET'] },
  '/v1/pbx/callinfo/url/': { route: 'callinfoUrl', methods: ['POST', 'DELETE'] },
  '/v1/pbx/callinfo/notifications/': { route: 'notifications', methods: ['POST'] },
};

function lastWins(sp: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of sp) out[k] = v;
  return out;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export async function startFakeZadarma(opts: FakeZadarmaOptions): Promise<FakeZadarma> {
  const requests: ZadarmaRequest[] = [];
  const accepted: CallbackRecord[] = [];
  const listeners = new Set<(cb: CallbackRecord) => void>();
  const queue: ZadarmaFailAnswer[] = [];
  const pending = new Set<ServerResponse>();
  const hits: number[] = [];
  const limit = opts.rateLimitPerMinute ?? 100;
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  let balance = opts.balance ?? 10.34;
  let currency = opts.currency ?? 'USD';
  const info: CallinfoState = {
    url: '',
    notifications: {
      notify_start: 'true',
      notify_internal: 'false',
      notify_end: 'true',
      notify_out_start: 'false',
      notify_out_end: 'false',
      notify_answer: 'false',
    },
  };

  const send = (
    rec: ZadarmaRequest,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => {
    rec.response = status;
    rec.answer = body;
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const error = (rec: ZadarmaRequest, res: ServerResponse, status: number, message: string): void =>
    send(rec, res, status, { status: 'error', message });

  const takeFailure = (path: string): ZadarmaFailAnswer | undefined => {
    const i = queue.findIndex((a) => a.path === undefined || a.path === path);
    if (i < 0) return undefined;
    return queue.splice(i, 1)[0];
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const full = req.url ?? '/';
    const qi = full.indexOf('?');
    const path = qi < 0 ? full : full.slice(0, qi);
    const query = qi < 0 ? '' : full.slice(qi + 1);
    const method = req.method ?? '';
    const ctype = String(req.headers['content-type'] ?? '');
    let params: Record<string, string>;
    if (method === 'GET') params = lastWins(new URLSearchParams(query));
    else if (/^application\/x-www-form-urlencoded\s*(;|$)/i.test(ctype))
      params = lastWins(new URLSearchParams(raw));
    else params = {}; // PHP fills $_POST only for form bodies: JSON or other bodies carry no params
    const rec: ZadarmaRequest = {
      method,
      path,
      query,
      params,
      headers: { ...req.headers },
      body: raw,
      at: Date.now(),
      response: 0,
    };
    requests.push(rec);

    const fail = takeFailure(path);
    if (fail) {
      if (resetOrHang(fail, req, res, pending)) return;
      const b = fail.body ?? { status: 'error', message: fail.message ?? defaultFailMessage(fail.status) };
      send(rec, res, fail.status, b, fail.headers);
      return;
    }

    const r = ROUTES[path];
    if (!r) {
      error(rec, res, 404, MSG.notFound);
      return;
    }

    // Authorization: key:signature, signature over the canonical (sorted, RFC 1738) params
    const auth = req.headers.authorization;
    const colon = typeof auth === 'string' ? auth.indexOf(':') : -1;
    const givenKey = colon < 0 || typeof auth !== 'string' ? '' : auth.slice(0, colon);
    const givenSig = colon < 0 || typeof auth !== 'string' ? '' : auth.slice(colon + 1);
    const expected = restSignature(path, buildQuery(params), opts.secret);
    if (givenKey !== opts.key || givenSig !== expected) {
      error(rec, res, 401, MSG.auth);
      return;
    }

    if (limit > 0) {
      const t = Date.now();
      while (hits.length > 0 && (hits[0] ?? 0) <= t - 60_000) hits.shift();
      if (hits.length >= limit) {
        error(rec, res, 429, MSG.rate);
        return;
      }
      hits.push(t);
    }

    if (!r.methods.includes(method)) {
      error(rec, res, 400, MSG.wrongMethod);
      return;
    }

    const [status, body, after] = route(r.route, method, params);
    send(rec, res, status, body);
    after?.();
  };

  type Answer = [status: number, body: unknown, after?: () => void];
  const err = (message: string, status = 400): Answer => [status, { status: 'error', message }];

  /** The documented answer of one (authorised) API method. */
  const route = (which: Route, method: string, params: Record<string, string>): Answer => {
    switch (which) {
      case 'callback': {
        const { from, to, sip, predicted } = params;
        if (from === undefined || !FROM_RE.test(from)) return err(MSG.badParam('from'));
        if (to === undefined || !TO_RE.test(to)) return err(MSG.badParam('to'));
        if (sip !== undefined && !SIP_RE.test(sip)) return err(MSG.badParam('sip'));
        const time = now();
        const cb: CallbackRecord = { from, to, time, at: Date.now(), params: { ...params } };
        if (sip !== undefined) cb.sip = sip;
        if (predicted !== undefined) cb.predicted = predicted;
        accepted.push(cb);
        return [
          200,
          { status: 'success', from, to, time },
          () => {
            for (const l of listeners) l(cb);
          },
        ];
      }
      case 'balance':
        return [200, { status: 'success', balance, currency }];
      case 'callinfo':
        return [200, { status: 'success', url: info.url, notifications: { ...info.notifications } }];
      case 'callinfoUrl': {
        if (method === 'DELETE') {
          info.url = '';
          return [200, { status: 'success', url: '' }];
        }
        const url = params.url;
        if (url === undefined || !isHttpUrl(url)) return err(MSG.badParam('url'));
        info.url = url;
        return [200, { status: 'success', url }];
      }
      case 'notifications': {
        const next = { ...info.notifications };
        for (const k of NOTIFY_KEYS) {
          const v = params[k];
          if (v === undefined) continue;
          if (v !== 'true' && v !== 'false') return err(MSG.badParam(k));
          next[k] = v;
        }
        info.notifications = next;
        return [200, { status: 'success', notifications: { ...next } }];
      }
    }
  };

  const server = bodyServer(
    (req, res, raw) => handle(req, res, raw.toString('utf8')),
    (e) => ({ status: 'error', message: `fake crashed: ${String(e)}` }),
  );

  const url = await listenLoopback(server);
  let closed: Promise<void> | undefined;

  return {
    url,
    requests,
    callbacks: () => accepted.map((c) => ({ ...c, params: { ...c.params } })),
    onCallback: (listener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    failNext: (...answers) => {
      queue.push(...answers);
    },
    setBalance: (n, cur) => {
      balance = n;
      if (cur !== undefined) currency = cur;
    },
    callinfo: () => ({ url: info.url, notifications: { ...info.notifications } }),
    waitFor: (pred, timeoutMs = 5000) =>
      pollUntil(
        () => accepted.map((c) => ({ ...c })),
        pred,
        timeoutMs,
        (s) => {
          const last = requests
            .slice(-3)
            .map((r) => `${r.method} ${r.path} → ${r.response} ${JSON.stringify(r.answer ?? null)}`)
            .join('\n  ');
          return (
            `FakeZadarma.waitFor: condition not met within ${timeoutMs} ms; ` +
            `${s.length} callback(s) accepted, ${requests.length} request(s) seen` +
            (last ? `; last requests:\n  ${last}` : '')
          );
        },
      ),
    close: () => {
      closed ??= closeServer(server, pending);
      return closed;
    },
  };
}
