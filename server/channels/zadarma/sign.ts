/**
 * Zadarma wire-level signatures (docs/protocols/zadarma.md#rest-signatures and
 * #webhook-events-and-their-signatures). Pure; node:crypto only.
 *
 * REST: `Authorization: <key>:<base64(hex(HMAC-SHA1(secret, method + query + md5(query))))>`, where
 * `query` is the params (plus `format=json`, which the official SDKs add before signing) sorted by key
 * and encoded as PHP `http_build_query(..., PHP_QUERY_RFC1738)` does. The same `query` is the GET query
 * string or the POST/PUT/DELETE form body.
 *
 * Webhooks: header `Signature: base64(hex(HMAC-SHA1(secret, concat(fields in the per-event order))))`.
 * Note: base64 of the 40-char ASCII hex digest, NOT of the raw 20 bytes (PHP SDK, docs and Python SDK
 * agree; the TS SDK's webhook check uses raw bytes and is wrong).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the HTTP header carrying the webhook signature (Node lower-cases incoming header names). */
export const WEBHOOK_SIGNATURE_HEADER = 'Signature';

const UNRESERVED = /[A-Za-z0-9_.-]/;

/**
 * PHP `urlencode()` (= http_build_query with PHP_QUERY_RFC1738): every byte of the UTF-8 form except
 * `A-Z a-z 0-9 _ . -` becomes `%XX` (upper-case hex), and a space becomes `+`. Unlike
 * encodeURIComponent, it also encodes `! ' ( ) * ~`.
 */
export function phpUrlencode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && UNRESERVED.test(ch)) out += ch;
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * `ksort($params); http_build_query($params, '', '&', PHP_QUERY_RFC1738)`. Keys are sorted by their
 * code units (= byte order for the ASCII parameter names Zadarma uses).
 */
export function buildQuery(params: Readonly<Record<string, string | number>>): string {
  return Object.keys(params)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((k) => `${phpUrlencode(k)}=${phpUrlencode(String(params[k]))}`)
    .join('&');
}

function hexThenBase64Hmac(secret: string, data: string): string {
  const hex = createHmac('sha1', secret).update(data, 'utf8').digest('hex');
  return Buffer.from(hex, 'ascii').toString('base64');
}

/** The REST signature for an already-built query string (what the server recomputes). */
export function restSignature(method: string, query: string, secret: string): string {
  const md5 = createHash('md5').update(query, 'utf8').digest('hex');
  return hexThenBase64Hmac(secret, method + query + md5);
}

/**
 * Signs a REST call. `method` is the path with both slashes, e.g. '/v1/request/callback/'.
 * `format=json` is added unless `params.format` is given (the SDKs add it before signing, and the
 * worked example in docs/protocols/zadarma.md includes it). Returns the query (send it as `?query` for
 * GET, or as the x-www-form-urlencoded body otherwise) and the full `Authorization` header value
 * `key:signature`.
 */
export function signRequest(
  method: string,
  params: Record<string, string | number>,
  key: string,
  secret: string,
): { query: string; authorization: string } {
  const query = buildQuery({ format: 'json', ...params });
  return { query, authorization: `${key}:${restSignature(method, query, secret)}` };
}

/**
 * Fields concatenated (no separator) for each webhook event's signature, in order (user-api-v1
 * lib/Webhook/*::getSignatureString; docs/protocols/zadarma.md#webhook-events-and-their-signatures).
 * The unmerged SMS / SPEECH_RECOGNITION events are deliberately absent (not verified), so they do not
 * verify.
 */
const SIGNATURE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  NOTIFY_START: ['caller_id', 'called_did', 'call_start'],
  NOTIFY_INTERNAL: ['caller_id', 'called_did', 'call_start'],
  NOTIFY_ANSWER: ['caller_id', 'destination', 'call_start'],
  NOTIFY_END: ['caller_id', 'called_did', 'call_start'],
  NOTIFY_OUT_START: ['internal', 'destination', 'call_start'],
  NOTIFY_OUT_END: ['internal', 'destination', 'call_start'],
  NOTIFY_RECORD: ['pbx_call_id', 'call_id_with_rec'],
  NOTIFY_IVR: ['caller_id', 'called_did', 'call_start'],
};

/** Every event name whose signature is known. */
export const WEBHOOK_EVENTS: readonly string[] = Object.keys(SIGNATURE_FIELDS);

/** The fields signed for `event`, in order; undefined for an unknown event (exact, case-sensitive). */
export function webhookSignatureFields(event: string): string[] | undefined {
  if (!Object.hasOwn(SIGNATURE_FIELDS, event)) return undefined;
  const f = SIGNATURE_FIELDS[event];
  return f ? [...f] : undefined;
}

/**
 * The signature Zadarma sends for these form fields (`fields.event` selects the order). A missing
 * field counts as '' (PHP concatenates an unset `$_POST[...]` as ''). Throws for an unknown event.
 */
export function signWebhook(fields: Readonly<Record<string, string>>, secret: string): string {
  const event = fields.event ?? '';
  const order = webhookSignatureFields(event);
  if (!order) throw new Error(`signWebhook: unknown Zadarma event ${JSON.stringify(event)}`);
  return hexThenBase64Hmac(secret, order.map((f) => fields[f] ?? '').join(''));
}

/**
 * Checks the `Signature` header of a webhook against its (URL-decoded) form fields. False for a
 * missing/empty signature, a missing/unknown `event`, or a mismatch. Constant-time on equal lengths.
 */
export function verifyWebhookSignature(
  fields: Readonly<Record<string, string>>,
  signature: string | undefined,
  secret: string,
): boolean {
  if (typeof signature !== 'string' || signature === '' || secret === '') return false;
  const event = fields.event;
  if (event === undefined || !webhookSignatureFields(event)) return false;
  const expected = Buffer.from(signWebhook(fields, secret), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
