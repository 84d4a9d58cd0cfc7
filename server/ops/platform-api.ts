/**
 * The few platform calls `doctor` and `webhooks` make, each turning any failure into an ApiFailure that
 * says whether the credentials were refused, the API could not be reached, or it refused the request.
 */
import { type Api, TelegramApiError, type User, type WebhookInfo } from 'node-telegram-bot-api';
import { telegramApi } from '../channels/telegram/client';
import { signRequest } from '../channels/zadarma/sign';
import type { TelegramConfig, WhatsAppConfig, ZadarmaConfig } from '../config/config';

const TIMEOUT_MS = 10_000;

export type FailureKind = 'auth' | 'network' | 'refused';

export class ApiFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
  }
}

/** "connect ECONNREFUSED 127.0.0.1:9" rather than fetch's bare "fetch failed". */
function networkMessage(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  return err.cause?.message ?? err.cause?.code ?? err.message;
}

async function call(
  url: string,
  init: RequestInit,
): Promise<{ status: number; json: unknown; text: string }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    throw new ApiFailure('network', `cannot reach ${new URL(url).origin}: ${networkMessage(e)}`);
  }
  const text = await res.text().catch(() => '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

// --- 360dialog

export interface D360Webhook {
  url?: string;
  headers?: Record<string, string>;
}

/** `GET` (or, with `set`, `POST`) `{D360_BASE_URL}/v1/configs/webhook` with the D360-API-KEY. */
export async function d360Webhook(cfg: WhatsAppConfig, set?: D360Webhook): Promise<D360Webhook> {
  const res = await call(`${cfg.baseUrl}/v1/configs/webhook`, {
    method: set ? 'POST' : 'GET',
    headers: {
      'D360-API-KEY': cfg.apiKey ?? '',
      ...(set ? { 'Content-Type': 'application/json' } : {}),
    },
    body: set ? JSON.stringify(set) : undefined,
  });
  const body = (res.json ?? {}) as D360Webhook & {
    meta?: { developer_message?: string };
    error?: { message?: string };
  };
  if (res.status >= 200 && res.status < 300) return body;
  const why =
    body.meta?.developer_message ?? body.error?.message ?? (res.text.slice(0, 200) || '(empty body)');
  throw new ApiFailure(
    res.status === 401 || res.status === 403 ? 'auth' : 'refused',
    `HTTP ${res.status}: ${why}`,
  );
}

// --- Zadarma

/** A signed Zadarma REST call (as the channel's callback request); the answer when `status` is success. */
export async function zadarmaCall(
  cfg: ZadarmaConfig,
  method: 'GET' | 'POST',
  path: string,
  params: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const { query, authorization } = signRequest(path, params, cfg.apiKey ?? '', cfg.apiSecret ?? '');
  const res = await call(method === 'GET' ? `${cfg.baseUrl}${path}?${query}` : `${cfg.baseUrl}${path}`, {
    method,
    headers: {
      Authorization: authorization,
      ...(method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: method === 'POST' ? query : undefined,
  });
  const body = (res.json ?? {}) as Record<string, unknown>;
  if (res.status >= 200 && res.status < 300 && body.status === 'success') return body;
  const why = typeof body.message === 'string' ? body.message : res.text.slice(0, 200) || '(empty body)';
  throw new ApiFailure(res.status === 401 ? 'auth' : 'refused', `HTTP ${res.status}: ${why}`);
}

// --- Telegram

/** One Bot API call with the configured token and API root. */
export async function telegramCall<T>(cfg: TelegramConfig, fn: (api: Api) => Promise<T>): Promise<T> {
  try {
    return await fn(telegramApi(cfg.token ?? '', cfg.apiRoot));
  } catch (e) {
    if (e instanceof TelegramApiError) {
      // A token of the wrong shape gets 404 Not Found, a revoked one 401 Unauthorized.
      const auth = e.errorCode === 401 || e.errorCode === 404;
      throw new ApiFailure(auth ? 'auth' : 'refused', `${e.errorCode} ${e.description}`);
    }
    throw new ApiFailure('network', `cannot reach ${cfg.apiRoot}: ${networkMessage(e)}`);
  }
}

export const telegramMe = (cfg: TelegramConfig): Promise<User> => telegramCall(cfg, (api) => api.getMe());

export const telegramWebhookInfo = (cfg: TelegramConfig): Promise<WebhookInfo> =>
  telegramCall(cfg, (api) => api.getWebhookInfo());

/** `"message" at <ISO time>` of Telegram's last failed delivery to the webhook; '' when none. */
export function telegramLastError(info: WebhookInfo): string {
  if (!info.last_error_message) return '';
  const at = info.last_error_date ? ` at ${new Date(info.last_error_date * 1000).toISOString()}` : '';
  return `"${info.last_error_message}"${at}`;
}
