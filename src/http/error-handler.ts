/**
 * One error middleware, two audiences. People get the error page with a way forward; machines
 * (JSON callers, event streams, callbacks) get `{ error, error_description }`. A `BridgeError`
 * shows its own description; anything else is logged in full and answered with a generic 500
 * that carries no stack, URL, token or secret.
 */
import type { Context, Next } from 'koa';
import type { Logger } from '../log.ts';
import { BridgeError, CsrfTokenRejected, RateLimited } from './errors.ts';
import { requestLog } from './request-id.ts';
import type { Views } from './views.ts';

const GENERIC = 'Something went wrong on our side. Please try again.';

function wantsHtml(ctx: Context): boolean {
  return ctx.accepts('json', 'html') === 'html';
}

export function errorHandler(views: Views, log: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (error) {
      const known = error instanceof BridgeError ? error : undefined;
      // Koa's own http-errors (a body too large, a bad form) carry status and expose.
      const httpError = error as { status?: number; expose?: boolean; message?: string };
      const status = known?.status ?? (httpError.expose ? httpError.status : undefined) ?? 500;
      const code = known?.code ?? (status >= 500 ? 'server_error' : 'invalid_request');
      const description =
        known && known.expose
          ? known.description
          : status < 500 && httpError.message
            ? httpError.message
            : GENERIC;

      // The request's own logger: its lines carry the request id and the sign-in's fields.
      const lines = requestLog(ctx, log);
      if (status >= 500) {
        lines.error({ err: error, error_code: code, path: ctx.path }, 'request failed');
      } else {
        lines.info(
          { error_code: code, status, path: ctx.path, detail: known?.detail },
          'request refused',
        );
      }

      if (ctx.headerSent || !ctx.writable) return;
      ctx.status = status;
      if (known instanceof RateLimited) ctx.set('Retry-After', String(known.retryAfterS));
      if (wantsHtml(ctx)) {
        // A refusal that names a page to start again from gets a link to it.
        const backUrl =
          known && 'backUrl' in known && typeof known.backUrl === 'string'
            ? known.backUrl
            : undefined;
        ctx.type = 'html';
        ctx.body = views.page(ctx, 'error', {
          server: status >= 500,
          message: description,
          code,
          ...(backUrl ? { backUrl, backLabel: 'error.startAgain' } : {}),
          // A refused form is not a failed sign-in: the page is opened again from the link.
          ...(known instanceof CsrfTokenRejected
            ? { titleKey: 'error.formRejectedTitle', whatToDoKey: 'error.formRejectedWhatToDo' }
            : {}),
          // A rate limit says how long to wait, and leads back to the sign-in.
          ...(known instanceof RateLimited
            ? {
                titleKey: 'error.rateLimitedTitle',
                whatToDoKey: 'error.rateLimitedWait',
                whatToDoValues: { seconds: known.retryAfterS },
                backLabel: 'error.backToSignIn',
              }
            : {}),
        });
      } else {
        ctx.body = { error: code, error_description: description };
      }
    }
  };
}
