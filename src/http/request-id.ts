/**
 * A request id on every request, and one access log line for it. An incoming `X-Request-Id` is
 * kept only if it is short and made of safe characters (it ends up in logs), otherwise a fresh
 * one is made. It is echoed back and carried by a child logger on `ctx.state.log`, which every
 * request-path log line uses; the interaction flow adds the interaction uid and the authId's
 * hash to it as it learns them (`bindLog`).
 *
 * oidc-provider handles its own routes with a context of its own, so the request's logger is
 * also kept by the Node request object (`RequestLogs`), where the provider's event listeners
 * find it.
 *
 * The access line is written when the response is done (for an event stream, when it closes)
 * with the method, the path without its query (queries carry codes and tokens), the status and
 * the duration. Health checks and scrapes are logged at debug level: they come every few
 * seconds and say nothing about users.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Context, Next } from 'koa';
import type { Logger } from '../log.ts';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

interface LogState {
  requestId?: string;
  log?: Logger;
}

/** Each request's logger, by its Node request object, for code that sees only that. */
export class RequestLogs {
  readonly #byRequest = new WeakMap<IncomingMessage, Logger>();
  readonly #root: Logger;

  constructor(root: Logger) {
    this.#root = root;
  }

  /** The request's logger (with its request id), or the root logger outside a request. */
  of(req: IncomingMessage | undefined): Logger {
    return (req && this.#byRequest.get(req)) ?? this.#root;
  }

  set(req: IncomingMessage, log: Logger): void {
    this.#byRequest.set(req, log);
  }
}

/** The request's logger, or `fallback` outside the request-id middleware. */
export function requestLog(ctx: Context, fallback: Logger): Logger {
  return (ctx.state as LogState).log ?? fallback;
}

/** Adds fields to every later line of this request, the access line included. */
export function bindLog(ctx: Context, fields: Record<string, unknown>): void {
  const state = ctx.state as LogState;
  if (state.log) state.log = state.log.child(fields);
}

export function requestId(log: Logger, logs?: RequestLogs) {
  return async function assignRequestId(ctx: Context, next: Next): Promise<void> {
    const started = performance.now();
    const incoming = ctx.get('X-Request-Id');
    const id = SAFE_ID.test(incoming) ? incoming : randomUUID();
    ctx.set('X-Request-Id', id);
    const state = ctx.state as LogState;
    state.requestId = id;
    state.log = log.child({ request_id: id });
    logs?.set(ctx.req, state.log);

    const { method, path } = ctx;
    ctx.res.once('close', () => {
      const line = {
        method,
        path,
        status: ctx.res.statusCode,
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
        ...(ctx.res.writableFinished ? {} : { aborted: true }),
      };
      const current = state.log ?? log;
      if (QUIET_PATHS.has(path)) current.debug(line, 'request');
      else current.info(line, 'request');
    });
    await next();
  };
}
