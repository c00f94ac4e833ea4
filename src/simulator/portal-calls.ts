/**
 * Calls from the simulator to a portal: `POST <webUrl>/api/PortalCommunication/<Op>` with a
 * JSON body in the configured casing. One short attempt, no retries, so a test sees exactly
 * what a portal answered. Every call is recorded with the portal's status; a portal that
 * fails, times out or cannot be reached is recorded too, and never breaks the simulator.
 */
import got from 'got';
import { applyCasing, isJsonObject, withoutField, type JsonObject } from './casing.ts';
import { recordCall, type SimulatorCore } from './state.ts';

/** The operations a NoPass server calls on a portal. */
export type PortalOp =
  | 'ConfirmPreRegistration'
  | 'ConfirmRegistration'
  | 'UpdatePicture'
  | 'AuthorizedUser'
  | 'ValidateUserRegistration'
  | 'ConfirmUserRegistration'
  | 'UpdateUser'
  | 'DeleteUser';

/** What came back from a portal. */
export interface PortalReply {
  /** The HTTP status; null when there was no answer (unreachable, timeout, dropped). */
  status: number | null;
  /** The reply parsed as JSON whatever its content type, or undefined when it was not JSON. */
  body: unknown;
  /** Why there was no answer. */
  error?: string;
}

/** Where a call goes: a portal's base URL and, once it has one, its id. */
export interface PortalTarget {
  webUrl: string;
  portalId: string | null;
}

/** Calls `op` on the portal and records the call. Never throws. */
export async function callPortal(
  sim: SimulatorCore,
  target: PortalTarget,
  op: PortalOp,
  body: JsonObject,
): Promise<PortalReply> {
  const sent = applyCasing(body, sim.config.callbackCasing) as JsonObject;
  const reply = await post(sim, `${target.webUrl}/api/PortalCommunication/${op}`, sent);
  recordCall(sim, {
    direction: 'sent',
    op,
    portalId: target.portalId,
    body: withoutField(sent, 'authToken'),
    status: reply.status,
    ...(reply.error === undefined ? {} : { error: reply.error }),
    time: sim.now(),
  });
  sim.log.debug({ nopass_op: op, status: reply.status, error: reply.error }, 'portal called');
  return reply;
}

/**
 * Sends an UpdatePicture or AuthorizedUser callback, honouring the dropCallbacks and
 * repeatCallbacks faults. Returns the first reply.
 */
export async function sendCallback(
  sim: SimulatorCore,
  target: PortalTarget,
  op: 'UpdatePicture' | 'AuthorizedUser',
  body: JsonObject,
): Promise<PortalReply> {
  if (sim.faults.dropCallbacks) {
    const error = 'dropped by the dropCallbacks fault';
    recordCall(sim, {
      direction: 'sent',
      op,
      portalId: target.portalId,
      body: applyCasing(body, sim.config.callbackCasing) as JsonObject,
      status: null,
      error,
      time: sim.now(),
    });
    return { status: null, body: undefined, error };
  }
  const first = await callPortal(sim, target, op, body);
  if (sim.faults.repeatCallbacks) await callPortal(sim, target, op, body);
  return first;
}

async function post(sim: SimulatorCore, url: string, json: JsonObject): Promise<PortalReply> {
  if (sim.closing.signal.aborted) return { status: null, body: undefined, error: 'closed' };
  try {
    const response = await got.post(url, {
      json,
      responseType: 'text',
      throwHttpErrors: false,
      followRedirect: false,
      retry: { limit: 0 },
      timeout: { request: sim.config.portalTimeoutMs },
      signal: sim.closing.signal,
    });
    return { status: response.statusCode, body: parseJson(response.body) };
  } catch (error) {
    return { status: null, body: undefined, error: networkError(error) };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function networkError(error: unknown): string {
  if (isJsonObject(error) || error instanceof Error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof message === 'string') return message;
  }
  return 'request failed';
}
