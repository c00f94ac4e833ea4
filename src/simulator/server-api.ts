/**
 * The four server operations a portal calls, under `/api`, and the pipeline every one of them
 * goes through:
 *
 *   record the call → spoil the reply (fault) → NoPass envelope for errors → latency and
 *   failures (faults) → bearer token → content type → JSON body → portalId → the operation
 *
 * Replies are NoPass's envelope `{ errors: [{ code, message }], result }` with content type
 * `text/plain`, as the vendor's server sends them; success is HTTP 200 with no errors.
 */
import { bodyParser } from '@koa/bodyparser';
import { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { readField, withoutField, type JsonObject } from './casing.ts';
import { injectFailures, spoilReplies } from './faults.ts';
import { baseUrl, bodyObject, describeError, Problem } from './http.ts';
import { closeAuthSession } from './operations/close-auth-session.ts';
import { deleteInitialPortal } from './operations/delete-initial-portal.ts';
import { preRegisterUser } from './operations/pre-register-user.ts';
import { requestAuthorization } from './operations/request-authorization.ts';
import { recordCall, type PortalRecord, type SimulatorCore } from './state.ts';

/** What an operation gets once the request has passed every check. */
export interface OperationInput {
  sim: SimulatorCore;
  portal: PortalRecord;
  /** The request body; read its fields with `readField`, in any casing. */
  body: JsonObject;
  /** Base URL of the simulator as links should show it. */
  baseUrl: string;
}

/** One server operation: returns the envelope's `result`, or throws a `Problem`. */
export type Operation = (input: OperationInput) => unknown;

interface OperationState {
  portal?: PortalRecord;
}

const ENVELOPE_CODES: Record<number, string> = {
  400: 'InvalidRequest',
  401: 'Unauthorized',
  404: 'NotFound',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
};

/** Routes for the four server operations. */
export function serverApiRouter(sim: SimulatorCore): Router {
  const router = new Router({ prefix: '/api' });
  const mount = (path: string, op: string, operation: Operation): void => {
    router.post(path, ...pipeline(sim, op, operation));
  };
  mount('/UserAuthentication/RequestAuthorization', 'RequestAuthorization', requestAuthorization);
  mount('/UserRegistration/PreRegisterUser', 'PreRegisterUser', preRegisterUser);
  mount('/UserDelete/DeleteInitialPortal', 'DeleteInitialPortal', deleteInitialPortal);
  mount('/UserAuthentication/CloseAuthSession', 'CloseAuthSession', closeAuthSession);
  return router;
}

/** Writes NoPass's envelope the way the vendor's server does: JSON text as `text/plain`. */
export function replyEnvelope(ctx: Context, status: number, envelope: unknown): void {
  ctx.status = status;
  ctx.type = 'text/plain';
  ctx.body = JSON.stringify(envelope);
}

function pipeline(sim: SimulatorCore, op: string, operation: Operation): Middleware[] {
  return [
    recordReceived(sim, op),
    spoilReplies(sim),
    envelopeErrors,
    injectFailures(sim),
    bearer(sim),
    jsonContentType,
    bodyParser({ enableTypes: ['json'], jsonLimit: '100kb' }),
    async (ctx: Context) => {
      const { portal } = ctx.state as OperationState;
      const body = bodyObject(ctx.request.body);
      if (!portal || readField(body, 'portalId') !== portal.portalId) {
        throw new Problem(401, 'portalId does not belong to the portal of this bearer token.');
      }
      const result = await operation({
        sim,
        portal,
        body,
        baseUrl: baseUrl(sim.config.publicUrl, ctx),
      });
      replyEnvelope(ctx, 200, { errors: [], result });
    },
  ];
}

function recordReceived(sim: SimulatorCore, op: string): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      const body = ctx.request.body;
      const object = typeof body === 'object' && body !== null && !Array.isArray(body);
      const portalId = object ? readField(body as JsonObject, 'portalId') : undefined;
      recordCall(sim, {
        direction: 'received',
        op,
        portalId: typeof portalId === 'string' ? portalId : null,
        body: object ? withoutField(body as JsonObject, 'authToken') : (body ?? null),
        status: ctx.status,
        time: sim.now(),
      });
    }
  };
}

const envelopeErrors: Middleware = async (ctx, next) => {
  try {
    await next();
  } catch (error) {
    const { status, message } = describeError(error);
    const code =
      (error instanceof Problem ? error.envelopeCode : undefined) ??
      ENVELOPE_CODES[status] ??
      'InternalServerError';
    replyEnvelope(ctx, status, { errors: [{ code, message }], result: null });
  }
};

function bearer(sim: SimulatorCore): Middleware {
  return async (ctx, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'));
    const portal = match?.[1] === undefined ? undefined : sim.portalsByToken.get(match[1]);
    if (!portal) {
      throw new Problem(401, 'A bearer token of a registered portal is required.');
    }
    (ctx.state as OperationState).portal = portal;
    await next();
  };
}

const jsonContentType: Middleware = async (ctx, next) => {
  const accepted = ctx.is('application/json', 'application/json-patch+json');
  if (accepted === null) throw new Problem(400, 'A JSON body is required.');
  if (accepted === false) {
    throw new Problem(415, 'The body must be application/json-patch+json or application/json.');
  }
  await next();
};
