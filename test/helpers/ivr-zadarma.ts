/**
 * Helpers for the voice-menu / Zadarma webhook tests: posting (signed or not, form or JSON) to
 * `/zadarma/webhook`, a digest of everything the store has on disk, and reading gate-call records.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formBody } from '../../fixtures/zadarma';
import { signWebhook, WEBHOOK_SIGNATURE_HEADER } from '../../server/channels/zadarma/sign';
import type { ActorRecord } from '../../server/engine/types';
import { CALLS, type CallDoc } from '../../storage/calls';
import type { Store } from '../../storage/store';
import { type HttpAnswer, http } from './service';

// biome-ignore lint/suspicious/noExplicitAny: IVR answers are inspected field by field
export type Json = any;

export interface PostOptions {
  /** Sign with this secret (default: the caller's secret); null: send no Signature header. */
  secret?: string | null;
  /** Send this Signature header verbatim instead of computing one. */
  signature?: string;
  /** Send as JSON (nested `wait_dtmf[x]` fields become `{wait_dtmf: {x}}`). */
  json?: boolean;
  /** Raw body instead of the encoded fields (the signature is still computed over `fields`). */
  raw?: string;
  contentType?: string;
}

/** The fields as Zadarma's JSON would nest them: `wait_dtmf[digits]` → `{wait_dtmf: {digits}}`. */
export function nestFields(fields: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    const m = /^([^[]+)\[([^\]]+)\]$/.exec(k);
    if (m?.[1] && m[2]) {
      const inner = (out[m[1]] ?? {}) as Record<string, unknown>;
      inner[m[2]] = v;
      out[m[1]] = inner;
    } else out[k] = v;
  }
  return out;
}

/** A webhook poster bound to one server and its Zadarma secret. */
export function zadarmaPoster(url: string, defaultSecret: string | null) {
  return async (fields: Readonly<Record<string, string>>, o: PostOptions = {}): Promise<HttpAnswer> => {
    const secret = o.secret === undefined ? defaultSecret : o.secret;
    const headers: Record<string, string> = {
      'content-type': o.contentType ?? (o.json ? 'application/json' : 'application/x-www-form-urlencoded'),
    };
    if (o.signature !== undefined) headers[WEBHOOK_SIGNATURE_HEADER] = o.signature;
    else if (secret) headers[WEBHOOK_SIGNATURE_HEADER] = signWebhook(fields, secret);
    const raw = o.raw ?? (o.json ? JSON.stringify(nestFields(fields)) : formBody(fields));
    return http(`${url}/zadarma/webhook`, { method: 'POST', raw, headers });
  };
}

/** Every store partition file's bytes, hashed: equal digests = nothing was committed in between. */
export function storeDigest(dataDir: string): string {
  const dir = join(dataDir, 'store');
  const h = createHash('sha256');
  if (!existsSync(dir)) return h.digest('hex');
  for (const f of readdirSync(dir).sort()) {
    h.update(f);
    h.update(readFileSync(join(dir, f)));
  }
  return h.digest('hex');
}

export function ivrActor(store: Store, pbx: string): ActorRecord | undefined {
  return store.get<ActorRecord>('actors', `ivr:${pbx}`);
}

/** The voice-menu actor's context (caller, attempts, choice); throws when there is no actor. */
export function ivrContext(store: Store, pbx: string): Json {
  const actor = ivrActor(store, pbx);
  if (!actor) throw new Error(`no voice-menu actor for ${pbx}`);
  return (actor.snapshot as Json).context;
}

/** Gate-call records of one gate, oldest first. */
export function callsOf(store: Store, gate: string): CallDoc[] {
  return store
    .all<CallDoc>(CALLS)
    .filter((c) => c.gate === gate)
    .sort((a, b) => a.requestedAt - b.requestedAt || a.updatedAt - b.updatedAt);
}

/** Log lines matching `re` (after index `from`). */
export function logLines(logs: readonly string[], re: RegExp, from = 0): string[] {
  return logs.slice(from).filter((l) => re.test(l));
}
