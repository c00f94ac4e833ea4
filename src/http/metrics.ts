/**
 * Prometheus metrics: what an operator graphs and alerts on. One `Metrics` is made in the
 * composition root, on a registry of its own (never prom-client's global one, so two bridges in
 * one process, as in the tests, never mix their counts), and handed to whatever counts.
 *
 * Names and labels are part of the operator's interface (the README lists them); label values
 * come from small fixed sets, never from a request, so no label can grow without bound.
 */
import { timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** How a sign-in ended: its interaction finished, NoPass refused, time ran out, or cancel. */
export type SignInOutcome = 'completed' | 'refused' | 'expired' | 'cancelled';

export interface Metrics {
  registry: Registry;
  /** Sign-ins for which NoPass started an authentication (a picture was shown). */
  signInsStarted: Counter;
  signInsEnded: Counter<'outcome'>;
  /** Calls the NoPass server made to the callback endpoints, by operation and result code. */
  callbacks: Counter<'operation' | 'result'>;
  /**
   * Duration of calls to the NoPass server, by operation and outcome (`ok`, an error code, or
   * `circuit_open` for a call the open circuit kept from being sent).
   */
  nopassCallSeconds: Histogram<'operation' | 'outcome'>;
  /** The circuit in front of the NoPass server: 0 closed, 1 half-open, 2 open. */
  nopassCircuitState: Gauge;
  /** Calls to the NoPass server failed at once, unsent, because the circuit was open. */
  nopassCircuitRejected: Counter<'operation'>;
  /** Event streams (waiting picture pages) this instance holds open right now. */
  eventStreams: Gauge;
  /** Time from the first picture shown to NoPass's verdict. */
  verdictSeconds: Histogram<'verdict'>;
  /** oidc-provider's outcomes: tokens issued and requests refused, by event. */
  oidcEvents: Counter<'event'>;
  /** Requests refused by a rate limit, by limit (`signin_ip`, `signin_user`, `callbacks_ip`). */
  rateLimited: Counter<'limit'>;
}

export interface MetricsOptions {
  /** Process and Node.js metrics (CPU, memory, event loop lag, GC); on by default. */
  defaultMetrics?: boolean;
}

const PREFIX = 'nopass_bridge_';

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  return {
    registry,
    signInsStarted: new Counter({
      name: `${PREFIX}sign_ins_started_total`,
      help: 'Sign-ins for which NoPass started an authentication and a picture was shown.',
      registers,
    }),
    signInsEnded: new Counter({
      name: `${PREFIX}sign_ins_ended_total`,
      help: 'Sign-ins that ended, by outcome: completed, refused, expired or cancelled.',
      labelNames: ['outcome'],
      registers,
    }),
    callbacks: new Counter({
      name: `${PREFIX}nopass_callbacks_total`,
      help: 'Calls from the NoPass server to the callback endpoints, by operation and result.',
      labelNames: ['operation', 'result'],
      registers,
    }),
    nopassCallSeconds: new Histogram({
      name: `${PREFIX}nopass_request_duration_seconds`,
      help: 'Duration of calls to the NoPass server, by operation and outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    nopassCircuitState: new Gauge({
      name: `${PREFIX}nopass_circuit_state`,
      help: 'The circuit in front of the NoPass server: 0 closed, 1 half-open, 2 open.',
      registers,
    }),
    nopassCircuitRejected: new Counter({
      name: `${PREFIX}nopass_circuit_rejected_total`,
      help: 'Calls to the NoPass server failed at once because the circuit was open, by operation.',
      labelNames: ['operation'],
      registers,
    }),
    eventStreams: new Gauge({
      name: `${PREFIX}event_streams_open`,
      help: 'Picture page event streams this instance holds open.',
      registers,
    }),
    verdictSeconds: new Histogram({
      name: `${PREFIX}verdict_seconds`,
      help: 'Time from the first picture shown to the verdict from NoPass, by verdict.',
      labelNames: ['verdict'],
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers,
    }),
    oidcEvents: new Counter({
      name: `${PREFIX}oidc_events_total`,
      help: 'OpenID Connect outcomes reported by the provider (tokens issued, errors), by event.',
      labelNames: ['event'],
      registers,
    }),
    rateLimited: new Counter({
      name: `${PREFIX}rate_limited_total`,
      help: 'Requests refused because a rate limit was reached, by limit.',
      labelNames: ['limit'],
      registers,
    }),
  };
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * GET /metrics in Prometheus's text format. With a token, a scraper must send
 * `Authorization: Bearer <token>`; anything else is a 401 that reveals nothing.
 */
export function createMetricsRouter(metrics: Metrics, token: string | undefined): Router {
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    if (token !== undefined) {
      const match = /^Bearer +(.+)$/i.exec(ctx.get('Authorization'));
      if (!match?.[1] || !sameToken(match[1], token)) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
        ctx.body = { error: 'unauthorized', error_description: 'A metrics token is required.' };
        return;
      }
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}
