import type { Context } from 'koa';
import getRawBody from 'raw-body';

/** Webhook bodies larger than this are refused with 413 before they are read. */
export const BODY_LIMIT = 1024 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads the raw request body as UTF-8 text; 413 when over the limit (checked on Content-Length first). */
export async function readText(ctx: Context, limit = BODY_LIMIT): Promise<string> {
  const declared = Number(ctx.get('content-length') || Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    throw new HttpError(413, `body of ${declared} bytes is over the limit of ${limit}`);
  }
  try {
    return await getRawBody(ctx.req, {
      limit,
      encoding: 'utf-8',
      length: Number.isFinite(declared) ? declared : undefined,
    });
  } catch (e) {
    const err = e as { type?: string; status?: number; message: string };
    if (err.type === 'entity.too.large') throw new HttpError(413, `body is over the limit of ${limit} bytes`);
    throw new HttpError(
      err.status && err.status < 500 ? err.status : 400,
      `cannot read the body: ${err.message}`,
    );
  }
}

/** Reads and parses a JSON body; 400 with the parser's reason when it is not JSON. */
export async function readJson(ctx: Context, limit = BODY_LIMIT): Promise<unknown> {
  return parseJson(await readText(ctx, limit));
}

/** Parses a JSON body; 400 with the parser's reason when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `body is not JSON: ${(e as Error).message}`);
  }
}
