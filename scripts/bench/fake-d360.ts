/**
 * A lighter fake 360dialog for the bench (test/fakes/d360.ts validates every body and keeps every
 * request, which would make the fake, not the server, the bottleneck): `POST /messages` answers 200
 * with a wamid at once and records, per recipient, the wall-clock time each message arrived.
 */
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { closeServer, listenLoopback } from '../../test/fakes/shared';

export interface LightD360 {
  url: string;
  received: Map<string, number[]>;
  count(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function startLightD360(): Promise<LightD360> {
  let received = new Map<string, number[]>();
  let n = 0;
  let total = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.timeOrigin + performance.now();
      let to = '';
      try {
        to = String((JSON.parse(Buffer.concat(chunks).toString('utf-8')) as { to?: unknown }).to ?? '');
      } catch {
        /* counted without a recipient */
      }
      total++;
      const list = received.get(to) ?? [];
      list.push(at);
      received.set(to, list);
      n++;
      const body = JSON.stringify({
        messaging_product: 'whatsapp',
        contacts: [{ input: to, wa_id: to }],
        messages: [{ id: `wamid.FAKE${n}` }],
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  const url = await listenLoopback(server);
  return {
    url,
    get received() {
      return received;
    },
    count: () => total,
    reset: () => {
      received = new Map();
      total = 0;
    },
    close: () => closeServer(server, new Set()),
  };
}
