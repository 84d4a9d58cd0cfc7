import Router from '@koa/router';
import type { Store } from '../../../storage/store';
import { listActors } from '../../inspect/actors';
import { readAsset } from '../../inspect/assets';
import { highlightedDiagram, machineInfo } from '../../inspect/machines';
import { inspectPage } from '../../inspect/page';
import { type PlaygroundDeps, PlaygroundError, type PlaygroundRequest, play } from '../../inspect/playground';
import { sequenceOf } from '../../inspect/sequence';
import { openAccess, requireAdmin } from '../admin-auth';
import { HttpError, readJson } from '../body';

/**
 * The inspector (ADMIN_TOKEN, or open: see inspect/open-mode.ts): `GET /inspect` (the page), `/inspect/machines.json` (the registry with
 * each machine's Mermaid diagram), `/inspect/actors.json?machine=&key=&id=&limit=` (live actors, phones
 * masked; a query that leaves one actor returns its history and highlighted diagram) and the page's
 * assets, `/inspect/diagram.json?machine=&state=` (a diagram with that state highlighted: history
 * stepping), `/inspect/sequence.json?key=|id=` (the conversation across actors around one: a Mermaid
 * sequence diagram) and, in the open development mode only, `POST /inspect/playground`. The page polls the JSON once a second.
 */
export function inspectRoutes(deps: {
  store: Store;
  /** Unset only when the inspector is open (inspectorOpen: a dry development run on loopback). */
  adminToken: string | undefined;
  open: boolean;
  clock: () => number;
  /** Only in the open development mode. */
  playground?: PlaygroundDeps;
}): Router {
  const router = new Router();
  if (!deps.open && !deps.adminToken) throw new Error('the inspector needs ADMIN_TOKEN unless it is open');
  const guard = deps.open ? openAccess() : requireAdmin(deps.adminToken as string, deps.clock);
  const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

  router.get('/inspect', guard, (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = inspectPage();
  });

  router.get('/inspect/machines.json', guard, (ctx) => {
    const gates = deps.playground ? Object.keys(deps.playground.config.gates.relays) : undefined;
    ctx.body = { machines: machineInfo(), playground: gates ? { gates } : false };
  });

  router.get('/inspect/actors.json', guard, (ctx) => {
    const machine = text(ctx.query.machine);
    const names = machineInfo().map((m) => m.name);
    if (machine && !names.includes(machine))
      throw new HttpError(400, `unknown machine "${machine.slice(0, 40)}"; known: ${names.join(', ')}`);
    const limitRaw = text(ctx.query.limit);
    const limit = limitRaw === undefined ? undefined : Number(limitRaw);
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 1000))
      throw new HttpError(400, 'limit must be a whole number from 1 to 1000');
    ctx.body = listActors(deps.store, {
      machine,
      key: text(ctx.query.key)?.slice(0, 200),
      id: text(ctx.query.id),
      limit,
    });
  });

  router.get('/inspect/diagram.json', guard, (ctx) => {
    const diagram = highlightedDiagram(text(ctx.query.machine) ?? '', text(ctx.query.state) ?? '');
    if (!diagram)
      throw new HttpError(400, 'machine and state must name a registered machine and one of its states');
    ctx.body = { diagram };
  });

  router.get('/inspect/sequence.json', guard, (ctx) => {
    const which = text(ctx.query.key) ?? text(ctx.query.id);
    const sequence = which ? sequenceOf(deps.store, which.slice(0, 200)) : undefined;
    if (!sequence) throw new HttpError(404, 'no such actor (give its key or id)');
    ctx.body = sequence;
  });

  const playground = deps.playground;
  // Mounted only in the open development mode (server/inspect/open-mode.ts): 404 otherwise.
  if (playground)
    router.post('/inspect/playground', guard, async (ctx) => {
      // JSON only: another site's page cannot send it without a CORS preflight, which is never granted.
      if (!ctx.is('application/json')) throw new HttpError(415, 'send application/json');
      const req = (await readJson(ctx, 16 * 1024)) as PlaygroundRequest;
      if (!req || typeof req !== 'object') throw new HttpError(400, 'a JSON object, please');
      try {
        ctx.body = await play(playground, req);
      } catch (e) {
        if (e instanceof PlaygroundError) throw new HttpError(400, e.message);
        throw e;
      }
    });

  router.get('/inspect/assets/:name', guard, async (ctx) => {
    const asset = await readAsset(ctx.params.name ?? '');
    if (!asset) throw new HttpError(404, 'no such asset');
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'private, max-age=3600');
    ctx.body = asset.body;
  });

  return router;
}
