/**
 * The NoPass client: the four outbound operations of the vendor's guide behind the
 * `NoPassClient` interface. Each call looks up the portal credentials (none yet means
 * `PortalNotRegistered`), hands the operation to its module (one per operation, each with its
 * own body and result checks) through the circuit breaker (circuit.ts), and logs one line with
 * the operation, the outcome and how long it took. The wire itself, headers and envelope, lives
 * in envelope.ts alone.
 */
import { performance } from 'node:perf_hooks';
import {
  BridgeError,
  NoPassCircuitOpen,
  NoPassCredentialsRejected,
  NoPassRefused,
  PortalNotRegistered,
} from '../http/errors.ts';
import type { Metrics } from '../http/metrics.ts';
import type { Logger } from '../log.ts';
import type { NoPassCircuit } from './circuit.ts';
import { closeAuthSession } from './close-auth-session.ts';
import { deleteInitialPortal } from './delete-initial-portal.ts';
import { createSender, type PortalCredentials } from './envelope.ts';
import { preRegisterUser } from './pre-register-user.ts';
import { requestAuthorization } from './request-authorization.ts';
import type { CallContext, NoPassClient } from './types.ts';

export type { PortalCredentials };

export interface NoPassClientOptions {
  /** The NoPass server's base URL (the embedded simulator's in quickstart mode). */
  baseUrl: string;
  /**
   * The portal registration to call with, looked up on every call: it may arrive (through the
   * ConfirmRegistration callback) while the bridge runs. Undefined means none yet.
   */
  credentials: () => Promise<PortalCredentials | undefined>;
  /** Budget for one attempt of one call. */
  timeoutMs: number;
  log: Logger;
  /** Where each call's duration is counted, by operation and outcome. */
  metrics?: Metrics;
  /** Largest answer read, in bytes; larger ones fail as `NoPassUnavailable`. */
  maxReplyBytes?: number;
  /** The bridge's circuit breaker, shared by every operation; none sends every call. */
  circuit?: NoPassCircuit;
}

/** Log fields for a failed call; vendor text is cut short, secrets never reach here. */
function failureFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof BridgeError)) return { outcome: 'failed', err: error };
  const fields: Record<string, unknown> = {
    outcome: error.code,
    error_code: error.code,
    detail: error.detail,
  };
  if (error instanceof NoPassRefused) {
    fields.http_status = error.httpStatus;
    fields.vendor_code = error.vendorCode?.slice(0, 64);
    fields.vendor_message = error.vendorMessage?.slice(0, 200);
  }
  return fields;
}

/** Builds the client the interaction flow and the command line use to reach NoPass. */
export function createNoPassClient(options: NoPassClientOptions): NoPassClient {
  const { log } = options;
  const send = createSender({
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    maxReplyBytes: options.maxReplyBytes,
  });

  async function run<T>(
    op: string,
    context: CallContext | undefined,
    call: (portal: PortalCredentials) => Promise<T>,
  ): Promise<T> {
    const lines = context?.log ?? log;
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    const observe = (outcome: string): void =>
      options.metrics?.nopassCallSeconds.observe(
        { operation: op, outcome },
        (performance.now() - started) / 1000,
      );
    try {
      const portal = await options.credentials();
      if (!portal) throw new PortalNotRegistered({ detail: `${op}: no portal registration yet` });
      const value = options.circuit
        ? await options.circuit.run(op, () => call(portal))
        : await call(portal);
      observe('ok');
      lines.debug({ nopass_op: op, outcome: 'ok', duration_ms: elapsed() }, 'nopass call');
      return value;
    } catch (error) {
      if (error instanceof NoPassCircuitOpen) {
        // The circuit's own log line says it opened; one per call would flood the log.
        observe('circuit_open');
        options.metrics?.nopassCircuitRejected.inc({ operation: op });
        lines.debug({ nopass_op: op, outcome: 'circuit_open' }, 'nopass call not sent');
        throw error;
      }
      const failure = failureFields(error);
      observe(String(failure.outcome));
      const fields = { nopass_op: op, duration_ms: elapsed(), ...failure };
      if (error instanceof NoPassCredentialsRejected) {
        lines.error(fields, 'nopass rejected the portal credentials');
      } else if (error instanceof NoPassRefused) lines.info(fields, 'nopass call refused');
      else if (error instanceof BridgeError) lines.warn(fields, 'nopass call failed');
      else lines.error(fields, 'nopass call failed');
      throw error;
    }
  }

  return {
    requestAuthorization: (request, context) =>
      run('RequestAuthorization', context, (portal) => requestAuthorization(send, portal, request)),
    preRegisterUser: (request, context) =>
      run('PreRegisterUser', context, (portal) => preRegisterUser(send, portal, request)),
    deleteInitialPortal: (userId, context) =>
      run('DeleteInitialPortal', context, (portal) => deleteInitialPortal(send, portal, userId)),
    closeAuthSession: (authId, context) =>
      run('CloseAuthSession', context, (portal) => closeAuthSession(send, portal, authId)),
  };
}
