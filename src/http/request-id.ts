/**
 * A request id on every request: an incoming `X-Request-Id` is kept only if it is short and
 * made of safe characters (it ends up in logs), otherwise a fresh one is made. It is echoed back
 * and carried by a child logger on `ctx.state.log`.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../log.ts';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId(log: Logger) {
  return async function assignRequestId(ctx: Context, next: Next): Promise<void> {
    const incoming = ctx.get('X-Request-Id');
    const id = SAFE_ID.test(incoming) ? incoming : randomUUID();
    ctx.set('X-Request-Id', id);
    ctx.state.requestId = id;
    ctx.state.log = log.child({ request_id: id });
    await next();
  };
}
