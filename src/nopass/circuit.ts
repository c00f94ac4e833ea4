/**
 * The circuit breaker in front of the NoPass server (opossum). One per bridge instance, shared
 * by every outbound operation: the server is one dependency, and a server that fails
 * RequestAuthorization will not answer CloseAuthSession either.
 *
 *   closed     within NOPASS_CIRCUIT_WINDOW_MS at least NOPASS_CIRCUIT_MIN_CALLS calls, and more
 *              than NOPASS_CIRCUIT_FAILURE_PERCENT of them unavailable  → open
 *   open       every call fails at once, unsent; after NOPASS_CIRCUIT_RESET_MS  → half-open
 *   half-open  the next call is sent as a probe (others meanwhile fail at once): answered
 *              → closed, counting afresh; unavailable → open again
 *
 * Only `NoPassUnavailable` counts as a failure. A refusal or a rejection of the portal's
 * credentials is an answer: the server is there. A call the open circuit holds back fails with
 * `NoPassCircuitOpen`, a `NoPassUnavailable`, so people see the same "try again" page as for any
 * outage. Each change of state is logged once (open as a warning) and shown by the
 * `nopass_circuit_state` gauge; /readyz reports the open state (http/health.ts).
 *
 * A retry of an idempotent call happens inside the sender (envelope.ts), so an attempt and its
 * retry are one call here, and count as one failure at most.
 */
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import { NoPassCircuitOpen, NoPassUnavailable } from '../http/errors.ts';
import type { Metrics } from '../http/metrics.ts';
import type { Logger } from '../log.ts';
import type { NoPassCircuitSettings } from '../settings/index.ts';

export type CircuitState = 'closed' | 'half_open' | 'open';

/** The gauge's value for each state. */
const GAUGE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

/** Slices of the counting window; the oldest slice drops out as each new one starts. */
const BUCKETS = 10;

export interface NoPassCircuit {
  /** Sends `call` unless the circuit is open; then throws `NoPassCircuitOpen`, nothing sent. */
  run<T>(op: string, call: () => Promise<T>): Promise<T>;
  /** Where the circuit stands; always `closed` when it is turned off. */
  state(): CircuitState;
  /** Stops its timers when the bridge shuts down; later calls are sent unguarded. */
  close(): void;
}

export interface NoPassCircuitOptions {
  settings: NoPassCircuitSettings;
  log: Logger;
  metrics?: Metrics;
}

type Call = () => Promise<unknown>;

/** A circuit that never opens (NOPASS_CIRCUIT_ENABLED=false). */
function alwaysClosed(): NoPassCircuit {
  return { run: (_op, call) => call(), state: () => 'closed', close: () => undefined };
}

export function createNoPassCircuit(options: NoPassCircuitOptions): NoPassCircuit {
  const { settings, log, metrics } = options;
  metrics?.nopassCircuitState.set(GAUGE.closed);
  if (!settings.enabled) return alwaysClosed();

  // The window's slices turn on this timer rather than opossum's own, so that closing can clear
  // them: failures from before an outage must not reopen the circuit at the next failure.
  const rotation = new EventEmitter();
  const breaker = new CircuitBreaker<[Call], unknown>((call) => call(), {
    name: 'nopass',
    // The sender has its own timeouts (NOPASS_TIMEOUT_MS); a second clock here would disagree.
    timeout: false,
    resetTimeout: settings.resetMs,
    rollingCountTimeout: settings.windowMs,
    rollingCountBuckets: BUCKETS,
    rotateBucketController: rotation,
    volumeThreshold: settings.minCalls,
    errorThresholdPercentage: settings.failurePercent,
    // Anything but an outage counts as the server answering.
    errorFilter: (error: unknown) => !(error instanceof NoPassUnavailable),
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
  });
  const turn = setInterval(() => rotation.emit('rotate'), Math.floor(settings.windowMs / BUCKETS));
  turn.unref();

  const fields = {
    nopass_circuit_min_calls: settings.minCalls,
    nopass_circuit_window_ms: settings.windowMs,
    nopass_circuit_reset_ms: settings.resetMs,
  };
  breaker.on('open', () => {
    metrics?.nopassCircuitState.set(GAUGE.open);
    log.warn(fields, 'nopass circuit open: calls fail at once until a probe succeeds');
  });
  breaker.on('halfOpen', () => {
    metrics?.nopassCircuitState.set(GAUGE.half_open);
    log.info(fields, 'nopass circuit half-open: the next call probes the server');
  });
  breaker.on('close', () => {
    metrics?.nopassCircuitState.set(GAUGE.closed);
    for (let slice = 0; slice < BUCKETS; slice += 1) rotation.emit('rotate');
    log.info(fields, 'nopass circuit closed: the server answers again');
  });

  return {
    async run<T>(op: string, call: () => Promise<T>): Promise<T> {
      if (breaker.isShutdown) return call();
      try {
        return (await breaker.fire(call)) as T;
      } catch (error) {
        // The breaker's own errors: here only "open" (no timeout, no capacity limit is set).
        if (error instanceof Error && CircuitBreaker.isOurError(error)) {
          throw new NoPassCircuitOpen({ detail: `${op}: circuit open, not sent`, cause: error });
        }
        throw error;
      }
    },
    state: () => (breaker.opened ? 'open' : breaker.halfOpen ? 'half_open' : 'closed'),
    close() {
      clearInterval(turn);
      breaker.shutdown();
    },
  };
}
