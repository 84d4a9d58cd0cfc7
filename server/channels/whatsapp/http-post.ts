import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/** The whole exchange of one POST, body included, is bounded by this. */
const TIMEOUT_MS = 10_000;

/**
 * Keep-alive connections to the API, one pool per protocol (D360_BASE_URL is https in production,
 * http against the fakes): `fetch` cost ~0.3 ms of CPU per send, this a fraction of it. An idle
 * connection is closed after 4 s (sooner when the server's Keep-Alive header says it closes sooner)
 * and does not keep the process alive, so a stopped service never waits on one. A reused connection
 * the server has just closed fails as a network error, which the outbox retries, as with `fetch`.
 */
const AGENT_OPTIONS = { keepAlive: true, maxSockets: 64, timeout: 4_000 };
const agents = { http: new http.Agent(AGENT_OPTIONS), https: new https.Agent(AGENT_OPTIONS) };

/** What `post` got: no answer at all, or a status and a body (empty when the body was `cut` off). */
export type Answer =
  | { error: Error }
  | {
      status: number;
      headers: IncomingHttpHeaders;
      text: string;
      cut?: { error: Error; timedOut: boolean };
    };

/**
 * One POST through the keep-alive pool, never rejecting. The whole exchange, body included, is
 * bounded by TIMEOUT_MS, counted by a plain timer: this function's closure holds the request until
 * it settles, so a hanging API is always cut off (unlike a timeout signal combined through
 * AbortSignal.any(), which Node 20 could garbage-collect before it fired; see the torture suite).
 * `signal` (the outbox's, at shutdown) cuts the exchange off the same way. The messages are those
 * `fetch` gave for the same events.
 */
export function post(
  url: string,
  headers: Record<string, string>,
  payload: string,
  signal: AbortSignal | undefined,
): Promise<Answer> {
  if (signal?.aborted) return Promise.resolve({ error: abortError(signal) });
  return new Promise<Answer>((resolve) => {
    let settled = false;
    let timedOut = false;
    let unlisten: (() => void) | undefined;
    let response: http.IncomingMessage | undefined;
    let failure: Error | undefined;
    const chunks: Buffer[] = [];
    const settle = (answer: Answer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unlisten?.();
      resolve(answer);
    };
    const cutOff = (e: Error): void => {
      failure ??= e;
      req.destroy(e);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      cutOff(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, TIMEOUT_MS);
    let req: http.ClientRequest;
    try {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      if (!secure && target.protocol !== 'http:')
        throw new TypeError(`unsupported protocol ${target.protocol}`);
      req = (secure ? https : http).request(target, {
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        headers: { ...headers, 'Content-Length': Buffer.byteLength(payload) },
      });
    } catch (e) {
      settle({ error: e as Error });
      return;
    }
    if (signal) unlisten = onAbort(signal, () => cutOff(abortError(signal)));
    req.on('error', (e) => {
      failure ??= e;
      if (!response) settle({ error: failure });
    });
    req.on('response', (res) => {
      response = res;
      const { statusCode = 0, headers: resHeaders } = res;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => {
        failure ??= e;
      });
      res.on('end', () => {
        let text: string;
        try {
          text = decodeBody(Buffer.concat(chunks), resHeaders['content-encoding']);
        } catch (e) {
          settle({ status: statusCode, headers: resHeaders, text: '', cut: { error: e as Error, timedOut } });
          return;
        }
        settle({ status: statusCode, headers: resHeaders, text });
      });
      res.on('close', () => {
        const error = failure ?? new Error('terminated');
        settle({ status: statusCode, headers: resHeaders, text: '', cut: { error, timedOut } });
      });
    });
    req.end(payload);
  });
}

/** The sends under way per caller signal: one 'abort' listener per signal, however many sends share it. */
const underWay = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `cut` when `signal` aborts; returns the undo. The outbox passes one signal to every send, and a
 * listener each would set off Node's MaxListenersExceededWarning past 10 sends in flight.
 */
function onAbort(signal: AbortSignal, cut: () => void): () => void {
  let cuts = underWay.get(signal);
  if (!cuts) {
    const set = new Set<() => void>();
    signal.addEventListener('abort', () => {
      for (const f of [...set]) f();
    });
    underWay.set(signal, set);
    cuts = set;
  }
  cuts.add(cut);
  const registered = cuts;
  return () => registered.delete(cut);
}

/** The signal's reason as fetch reported it ("This operation was aborted" for a bare `abort()`). */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');
}

/** UTF-8 text of a body, decompressed as fetch would (nothing asks for compression, but a server may). */
function decodeBody(raw: Buffer, encoding: string | undefined): string {
  let buf = raw;
  for (const coding of (encoding ?? '').toLowerCase().split(',').reverse()) {
    const c = coding.trim();
    if (c === 'gzip' || c === 'x-gzip') buf = gunzipSync(buf);
    else if (c === 'deflate') buf = inflateSync(buf);
    else if (c === 'br') buf = brotliDecompressSync(buf);
  }
  const text = buf.toString('utf8');
  // Response.text() drops a byte-order mark.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
