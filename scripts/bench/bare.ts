/**
 * The baseline of `npm run bench`: a bare Koa app answering `POST /webhook` with 200 after reading the
 * body with the service's own parser (server/http/body.ts readJson). Prints `listening <url>` when ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import { readJson } from '../../server/http/body';

const app = new Koa();
const router = new Router();
router.post('/webhook', async (ctx) => {
  await readJson(ctx);
  ctx.body = { status: 'ok' };
});
app.use(router.routes());
const server = createServer(app.callback());
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`listening http://127.0.0.1:${port}\n`);
});
