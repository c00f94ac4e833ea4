/**
 * Fault knobs: ways to make the simulator misbehave on purpose, so a portal can be tested
 * against a slow, failing or garbled NoPass server and against lost or repeated callbacks.
 * They are set through the control API and apply until reset.
 *
 * Latency, failures and malformed replies affect the four server operations only; dropped and
 * repeated callbacks affect UpdatePicture and AuthorizedUser only. `autoApprove` plays a phone
 * that approves every sign-in at once, for load tests and benchmarks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Middleware } from 'koa';
import { isJsonObject, readField, type JsonObject } from './casing.ts';
import { optionalBoolean, optionalInteger, Problem } from './http.ts';
import type { SimulatorCore } from './state.ts';

/** How the next server operation's reply is spoiled. */
export type MalformedKind = 'html' | 'truncated' | 'envelope';

const MALFORMED_KINDS: readonly string[] = ['html', 'truncated', 'envelope'];

/** The active knobs. */
export interface Faults {
  /** Delay before every server operation is handled. */
  latencyMs: number;
  /** How many of the next server operations answer HTTP 500. */
  failNext: number;
  /** Spoils the reply of the next server operation (used once). */
  malformedNext: MalformedKind | null;
  /** Whether UpdatePicture and AuthorizedUser are silently not sent. */
  dropCallbacks: boolean;
  /** Whether UpdatePicture and AuthorizedUser are each sent twice. */
  repeatCallbacks: boolean;
  /** Overrides the picture lifetime for pictures made from now on. */
  nextChangeMs: number | null;
  /** Overrides the number of pictures per authentication. */
  maxPictures: number | null;
  /** Whether every authentication is approved as soon as RequestAuthorization has answered. */
  autoApprove: boolean;
}

/** Knobs that change nothing. */
export function noFaults(): Faults {
  return {
    latencyMs: 0,
    failNext: 0,
    malformedNext: null,
    dropCallbacks: false,
    repeatCallbacks: false,
    nextChangeMs: null,
    maxPictures: null,
    autoApprove: false,
  };
}

const KNOWN = new Set(Object.keys(noFaults()).map((key) => key.toLowerCase()));

/**
 * Applies the knobs present in `input` on top of `current`. An unknown knob is a 400: a typo
 * should not silently test nothing.
 */
export function updateFaults(current: Faults, input: JsonObject): Faults {
  for (const key of Object.keys(input)) {
    if (!KNOWN.has(key.toLowerCase())) throw new Problem(400, `Unknown fault knob: ${key}.`);
  }
  const malformed = readField(input, 'malformedNext');
  const malformedOk =
    malformed === undefined ||
    malformed === null ||
    (typeof malformed === 'string' && MALFORMED_KINDS.includes(malformed));
  if (!malformedOk) {
    throw new Problem(400, `malformedNext must be one of ${MALFORMED_KINDS.join(', ')} or null.`);
  }
  return {
    latencyMs: optionalInteger(input, 'latencyMs', 0, 60_000) ?? current.latencyMs,
    failNext: optionalInteger(input, 'failNext', 0, 1000) ?? current.failNext,
    malformedNext:
      malformed === undefined ? current.malformedNext : (malformed as MalformedKind | null),
    dropCallbacks: optionalBoolean(input, 'dropCallbacks') ?? current.dropCallbacks,
    repeatCallbacks: optionalBoolean(input, 'repeatCallbacks') ?? current.repeatCallbacks,
    nextChangeMs: override(input, 'nextChangeMs', 10, 3_600_000, current.nextChangeMs),
    maxPictures: override(input, 'maxPictures', 1, 1000, current.maxPictures),
    autoApprove: optionalBoolean(input, 'autoApprove') ?? current.autoApprove,
  };
}

/** An override knob: a number sets it, null returns to the simulator's own setting. */
function override(
  input: JsonObject,
  name: string,
  min: number,
  max: number,
  current: number | null,
): number | null {
  if (readField(input, name) === null) return null;
  return optionalInteger(input, name, min, max) ?? current;
}

/** The knobs as the control API shows them, overrides resolved to the values in effect. */
export function activeFaults(sim: SimulatorCore): Faults {
  return {
    ...sim.faults,
    nextChangeMs: pictureLifetime(sim),
    maxPictures: picturesPerAuth(sim),
  };
}

/** The lifetime of a picture made now. */
export function pictureLifetime(sim: SimulatorCore): number {
  return sim.faults.nextChangeMs ?? sim.config.nextChangeMs;
}

/** How many pictures an authentication shows before it stops rotating. */
export function picturesPerAuth(sim: SimulatorCore): number {
  return sim.faults.maxPictures ?? sim.config.maxPictures;
}

/** Injected latency, then an HTTP 500 while `failNext` lasts. Sits inside the envelope. */
export function injectFailures(sim: SimulatorCore): Middleware {
  return async (_ctx, next) => {
    if (sim.faults.latencyMs > 0) {
      await sleep(sim.faults.latencyMs, undefined, { ref: false, signal: sim.closing.signal });
    }
    if (sim.faults.failNext > 0) {
      sim.faults.failNext -= 1;
      throw new Problem(500, 'Simulated server failure.', { envelopeCode: 'InternalServerError' });
    }
    await next();
  };
}

/**
 * Spoils the finished reply while `malformedNext` is set, keeping the operation's effect: a
 * garbled answer does not mean the server did nothing. The status becomes 200 so a portal
 * cannot get away with trusting the status alone.
 */
export function spoilReplies(sim: SimulatorCore): Middleware {
  return async (ctx, next) => {
    await next();
    const kind = sim.faults.malformedNext;
    if (kind === null) return;
    sim.faults.malformedNext = null;
    const text = typeof ctx.body === 'string' ? ctx.body : JSON.stringify(ctx.body ?? null);
    ctx.status = 200;
    if (kind === 'html') {
      ctx.type = 'text/html';
      ctx.body =
        '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>' +
        '<body><h1>Bad Gateway</h1><p>Simulated proxy error page.</p></body></html>';
    } else if (kind === 'truncated') {
      ctx.type = 'text/plain';
      ctx.body = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    } else {
      // Neither `errors` nor `result`: the data sits under a name the envelope does not have.
      ctx.type = 'text/plain';
      ctx.body = JSON.stringify({ data: resultOf(text) });
    }
  };
}

function resultOf(envelopeText: string): unknown {
  try {
    const parsed: unknown = JSON.parse(envelopeText);
    return isJsonObject(parsed) ? (readField(parsed, 'result') ?? null) : null;
  } catch {
    return null;
  }
}
