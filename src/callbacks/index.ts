/**
 * The callback endpoints: what the NoPass server calls on the bridge, at
 * `<NOPASS_CALLBACK_PREFIX>/api/PortalCommunication/<Op>`. Portal registration arrives here
 * (ConfirmPreRegistration, ConfirmRegistration), and so does everything that moves a sign-in
 * along (UpdatePicture, AuthorizedUser): the handler changes the store, then publishes on the
 * bus, and the picture page waiting on that authId, on whichever instance, hears of it. The
 * user calls change the user directory: a registration started from the hosted pages is judged
 * (ValidateUserRegistration) and completed (ConfirmUserRegistration), and NoPass updates
 * (UpdateUser) or deletes (DeleteUser) a user.
 *
 * Every call runs the same steps: check the caller's address, find the operation (names match
 * in any case, as ASP.NET routes do), read and validate the body, apply, reply in camelCase
 * JSON, and log one line. Refusals are `{ error, error_description }` with a 4xx status; bad
 * input never becomes a 500.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { BridgeError, RateLimited } from '../http/errors.ts';
import type { Metrics } from '../http/metrics.ts';
import type { RateLimits } from '../http/rate-limits.ts';
import { requestLog } from '../http/request-id.ts';
import { authRef, type Logger } from '../log.ts';
import type { Settings } from '../settings/index.ts';
import type { Bus, Store } from '../state/types.ts';
import type { UserDeletion } from '../users/deletion.ts';
import { authorizedUser } from './authorized-user.ts';
import { readJsonBody } from './body.ts';
import { confirmPreRegistration } from './confirm-pre-registration.ts';
import { confirmRegistration } from './confirm-registration.ts';
import { confirmUserRegistration } from './confirm-user-registration.ts';
import { deleteUser } from './delete-user.ts';
import type { CallbackDeps, CallbackOperation } from './operation.ts';
import { methodNotAllowed, sourceNotAllowed, unknownOperation } from './refusals.ts';
import { createSourceCheck } from './source.ts';
import { updatePicture } from './update-picture.ts';
import { updateUser } from './update-user.ts';
import { validateUserRegistration } from './validate-user-registration.ts';

/** Every operation of the guide; any other name is answered 404 `unknown_operation`. */
const OPERATIONS: readonly CallbackOperation[] = [
  confirmPreRegistration,
  confirmRegistration,
  updatePicture,
  authorizedUser,
  validateUserRegistration,
  confirmUserRegistration,
  updateUser,
  deleteUser,
];

const GENERIC = 'Something went wrong on our side.';

/**
 * Builds the middleware for the callback paths; mount it with `app.use(...)`. The path matches in
 * any letter case, as the vendor's ASP.NET routes do, except for NOPASS_CALLBACK_PREFIX: a secret
 * is compared as it is, and a request that misses it goes on as if there were no callbacks here.
 */
export function createCallbackRouter(deps: {
  store: Store;
  bus: Bus;
  settings: Settings;
  log: Logger;
  now: () => number;
  metrics: Metrics;
  /** How DeleteUser deletes users (with the deployment's hooks); see users/deletion.ts. */
  deletion?: UserDeletion;
  /** How often one address may call (RATE_LIMIT_CALLBACKS_PER_IP); none: no limit. */
  rateLimits?: RateLimits;
}): ReturnType<Router['routes']> {
  const byName = new Map(OPERATIONS.map((operation) => [operation.name.toLowerCase(), operation]));
  const sourceAllowed = createSourceCheck(deps.settings.callbackAllow);

  async function answer(ctx: Context, name: string | undefined): Promise<void> {
    const log = requestLog(ctx, deps.log);
    // What the handler found out (the sign-in's interaction uid, the verdict) joins the line.
    const noted: Record<string, unknown> = {};
    const callDeps: CallbackDeps = {
      ...deps,
      log,
      requestId: (ctx.state as { requestId?: string }).requestId,
      annotate: (fields) => Object.assign(noted, fields),
    };
    const operation = name === undefined ? undefined : byName.get(name.toLowerCase());
    let authId: string | undefined;
    let refusal: BridgeError | undefined;
    let failure: { error: unknown } | undefined;

    try {
      if (!sourceAllowed(ctx.ip)) throw sourceNotAllowed();
      // Counted before the body is read: a refused call costs nothing and changes nothing.
      await deps.rateLimits?.callback(ctx);
      if (!operation) throw unknownOperation();
      if (ctx.method !== 'POST') {
        ctx.set('Allow', 'POST');
        throw methodNotAllowed();
      }

      const body = await readJsonBody(ctx, operation.vocabulary);
      const prepared = operation.prepare(body);
      authId = prepared.authId;
      const reply = await prepared.apply(callDeps);

      ctx.status = 200;
      ctx.body = reply;
    } catch (error) {
      if (error instanceof BridgeError && error.expose) refusal = error;
      else failure = { error };
      ctx.status = refusal?.status ?? 500;
      if (refusal instanceof RateLimited) ctx.set('Retry-After', String(refusal.retryAfterS));
      ctx.body = {
        error: refusal?.code ?? 'server_error',
        error_description: refusal?.description ?? GENERIC,
      };
    }

    // Replies can hold the S-code; nothing on the way may keep them.
    ctx.set('Cache-Control', 'no-store');
    const result = failure ? 'server_error' : (refusal?.code ?? 'ok');
    deps.metrics.callbacks.inc({ operation: operation?.name ?? 'unknown', result });
    const fields = {
      callback_op: operation?.name,
      result,
      status: ctx.status,
      auth_ref: authId === undefined ? undefined : authRef(authId),
      ...noted,
      // Shown to the caller anyway: field names and reasons, never values.
      error_description: refusal?.description,
    };
    if (failure) log.error({ ...fields, err: failure.error }, 'nopass callback failed');
    else log.info(fields, 'nopass callback');
  }

  const router = new Router({
    prefix: `${deps.settings.callbackPrefix}/api/PortalCommunication`,
  });
  router.all('/:op', (ctx) => answer(ctx, ctx.params.op));
  // Deeper paths and the bare prefix: JSON 404s too, rather than whatever comes after.
  router.all('{/*rest}', (ctx) => answer(ctx, undefined));
  const routes = router.routes();
  const exactPrefix = `${deps.settings.callbackPrefix}/`;
  return async (ctx, next) => {
    if (ctx.path.startsWith(exactPrefix)) await routes(ctx, next);
    else await next();
  };
}
