import Router from '@koa/router';
import type { Context } from 'koa';
import {
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
  webhookSignatureFields,
} from '../../channels/zadarma/sign';
import type { GatesConfig } from '../../config/config';
import type { Engine } from '../../engine/engine';
import type { Access } from '../../gate/access';
import { routeZadarmaEvent } from '../../gate/zadarma-events';
import type { Logger } from '../../lib/log';
import { HttpError, parseJson, readText } from '../body';
import { webhookAuth } from '../webhook-auth';

/** Zadarma's notification bodies are small forms; anything larger is not Zadarma. */
const ZADARMA_BODY_LIMIT = 64 * 1024;
const ECHO = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * `GET /zadarma/webhook?zd_echo=X`: Zadarma's URL check (X back as plain text). `POST`: call
 * notifications, form-encoded (JSON accepted too), signed with ZADARMA_API_SECRET when it is set.
 * A voice-menu step answers with Zadarma's IVR JSON; everything else with `{"status":"ok"}`.
 */
export function zadarmaRoutes(deps: {
  engine: Engine;
  access: Access;
  gates: GatesConfig;
  secret?: string;
  log: Logger;
  onRefused?: (route: string) => void;
}): Router {
  const { log } = deps;
  const router = new Router();

  router.get('/zadarma/webhook', (ctx) => {
    const echo = ctx.query.zd_echo;
    if (typeof echo !== 'string' || !ECHO.test(echo))
      throw new HttpError(400, 'zd_echo must be a plain token');
    ctx.type = 'text/plain';
    ctx.body = echo;
  });

  // The signature covers form fields, so the guard reads them and leaves them for the handler.
  const guard = webhookAuth('POST /zadarma/webhook', deps, async (ctx) => {
    const fields = await readFields(ctx);
    ctx.state.fields = fields;
    const signature = ctx.get(WEBHOOK_SIGNATURE_HEADER) || undefined;
    if (!deps.secret || verifyWebhookSignature(fields, signature, deps.secret)) return undefined;
    return {
      log: 'zadarma: webhook with a wrong or missing signature refused',
      fields: { event: (fields.event ?? '').slice(0, 40), signature: signature ? 'wrong' : 'missing' },
      answer: 'wrong or missing Signature',
    };
  });

  router.post('/zadarma/webhook', guard, async (ctx) => {
    const fields = ctx.state.fields as Record<string, string>;
    const event = fields.event ?? '';
    if (!webhookSignatureFields(event)) {
      log.warn('zadarma: unknown event acknowledged and ignored', { event: event.slice(0, 40) });
      ctx.body = { status: 'ok' };
      return;
    }
    const answer = await routeZadarmaEvent(fields, deps);
    ctx.body = answer ?? { status: 'ok' };
  });

  return router;
}

/** Form fields (or a flat JSON object, nested `wait_dtmf` flattened to `wait_dtmf[digits]`) as strings. */
async function readFields(ctx: Context): Promise<Record<string, string>> {
  const text = await readText(ctx, ZADARMA_BODY_LIMIT);
  // Media types are case-insensitive (RFC 9110 §8.3.1).
  const type = ctx.get('content-type').toLowerCase();
  const out: Record<string, string> = Object.create(null);
  if (type.includes('json')) {
    const body = parseJson(text);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new HttpError(400, 'body must be an object');
    for (const [k, v] of Object.entries(body)) {
      if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
      else if (v && typeof v === 'object' && !Array.isArray(v)) {
        for (const [k2, v2] of Object.entries(v)) {
          if (typeof v2 === 'string' || typeof v2 === 'number') out[`${k}[${k2}]`] = String(v2);
        }
      }
    }
    return out;
  }
  if (type && !type.includes('x-www-form-urlencoded'))
    throw new HttpError(415, `unsupported content type ${type}`);
  for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  return out;
}
