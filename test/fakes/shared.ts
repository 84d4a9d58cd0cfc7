import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the three fake platforms have in common: reading request bodies, listening, scripted
 * hangs/resets, closing, polling.
 */

/**
 * A server that hands each request to `handle` with its whole body. When the handler throws (or its
 * promise rejects) before answering, the request is answered 500 with `crashBody(error)` as JSON.
 */
export function bodyServer(
  handle: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>,
  crashBody: (error: unknown) => unknown,
): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const crashed = (e: unknown): void => {
        if (res.headersSent || res.destroyed) return;
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(crashBody(e)));
      };
      try {
        Promise.resolve(handle(req, res, Buffer.concat(chunks))).catch(crashed);
      } catch (e) {
        crashed(e);
      }
    });
  });
}

/** Listens on a free loopback port; resolves with the fake's base URL. */
export async function listenLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * A scripted failure that answers nothing: `reset` drops the connection, `hang` holds the request
 * (in `hanging`, ended by closeServer). Returns true when the request was handled that way.
 */
export function resetOrHang(
  fail: { reset?: boolean; hang?: boolean },
  req: IncomingMessage,
  res: ServerResponse,
  hanging: Set<ServerResponse>,
): boolean {
  if (fail.reset) {
    req.socket.destroy();
    return true;
  }
  if (fail.hang) {
    hanging.add(res);
    res.on('close', () => hanging.delete(res));
    return true;
  }
  return false;
}

/** Ends held requests, then closes the server and every connection. */
export function closeServer(server: Server, hanging: Set<ServerResponse>): Promise<void> {
  return new Promise<void>((resolve) => {
    for (const res of hanging) res.destroy();
    hanging.clear();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Polls `read()` every 10 ms until `pred` holds (a throwing predicate counts as "not yet"); rejects
 * after `timeoutMs` with `describe`'s account of what was seen, so a failing test says why.
 */
export function pollUntil<T>(
  read: () => T,
  pred: (value: T) => boolean,
  timeoutMs: number,
  describe: (value: T) => string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      const value = read();
      let ok = false;
      try {
        ok = pred(value);
      } catch {
        ok = false;
      }
      if (ok) resolve(value);
      else if (Date.now() - started >= timeoutMs) reject(new Error(describe(value)));
      else setTimeout(tick, 10);
    };
    tick();
  });
}
