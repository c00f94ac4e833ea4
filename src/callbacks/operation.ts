/**
 * The shape of a callback operation: a name, a schema for its body, and a handler that applies
 * a valid request and returns the reply. index.ts runs every operation the same way (read the
 * body, validate, apply, reply, log one line), so a handler file holds only what its operation
 * decides.
 */
import type { z } from 'zod';
import { BadRequest } from '../http/errors.ts';
import type { Metrics } from '../http/metrics.ts';
import { authRef, type Logger } from '../log.ts';
import { describeIssues, vocabularyOf, type Vocabulary } from '../nopass/casing.ts';
import type { Settings } from '../settings/index.ts';
import type { Bus, LoginEvent, Store } from '../state/types.ts';
import type { UserDeletion } from '../users/deletion.ts';

/** What the callback handlers work with. */
export interface CallbackDeps {
  store: Store;
  bus: Bus;
  settings: Settings;
  log: Logger;
  now: () => number;
  metrics: Metrics;
  /** The callback's request id, carried in bus messages to the instance holding the page. */
  requestId?: string;
  /** Adds fields (never secrets) to the callback's one log line. */
  annotate?: (fields: Record<string, unknown>) => void;
  /** How users are deleted (DeleteUser); one over the store, without hooks, when absent. */
  deletion?: UserDeletion;
}

/** A request whose body passed its schema, ready to apply. */
export interface PreparedCallback {
  /** The authId it is about, if any: logged only as a hash. */
  authId?: string;
  /**
   * Applies the request; resolves to the reply body (an object, or `true`/`false` where the
   * guide wants a bare boolean) or rejects with a `BridgeError`.
   */
  apply(deps: CallbackDeps): Promise<object | boolean>;
}

export interface CallbackOperation {
  /** The name in the path, `/api/PortalCommunication/<name>`. */
  name: string;
  /** Every property name of the body, for reading it in any casing. */
  vocabulary: Vocabulary;
  /** Validates a body; throws `BadRequest` naming the fields that are wrong. */
  prepare(body: unknown): PreparedCallback;
}

export interface OperationSpec<S extends z.ZodType> {
  name: string;
  schema: S;
  authId?: (input: z.output<S>) => string;
  handle(input: z.output<S>, deps: CallbackDeps): Promise<object | boolean>;
}

/** Builds an operation from its schema and handler. */
export function defineOperation<S extends z.ZodType>(spec: OperationSpec<S>): CallbackOperation {
  return {
    name: spec.name,
    vocabulary: vocabularyOf(spec.schema),
    prepare(body) {
      const checked = spec.schema.safeParse(body);
      if (!checked.success) {
        throw new BadRequest(`Invalid ${spec.name} body: ${describeIssues(checked.error)}.`);
      }
      const input = checked.data;
      return {
        authId: spec.authId?.(input),
        apply: (deps) => spec.handle(input, deps),
      };
    },
  };
}

/**
 * Tells the browser waiting on this sign-in that something changed. The change is already in
 * the store, so a failed publish is logged and not reported to NoPass: the page still sees the
 * change when it reconnects or reloads, whereas an error reply would tell NoPass the portal
 * refused something it in fact applied.
 */
export async function announce(deps: CallbackDeps, event: LoginEvent): Promise<void> {
  try {
    await deps.bus.publish(
      deps.requestId === undefined ? event : { ...event, requestId: deps.requestId },
    );
  } catch (error) {
    deps.log.warn(
      { err: error, kind: event.kind, auth_ref: authRef(event.authId) },
      'login event not published',
    );
  }
}
