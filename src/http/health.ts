/**
 * /healthz says the process is alive (for a restart policy: it answers as long as the event
 * loop does, whatever Redis or NoPass are doing). /readyz says whether this instance can sign
 * people in (for a load balancer): the store answers, the event bus is connected, a portal
 * registration exists, the circuit in front of the NoPass server is not open, and the instance
 * is not shutting down, so traffic moves elsewhere while it drains. A half-open circuit counts as
 * ready: the next sign-in is the probe that closes it, and an instance no traffic reaches would
 * never find out that NoPass is back. Both answer JSON; /readyz lists what is wrong:
 *
 *   200 {"status":"ready","reasons":[]}
 *   503 {"status":"not_ready","reasons":["store not reachable", ...]}
 */
import Router from '@koa/router';
import type { CircuitState } from '../nopass/circuit.ts';
import type { Settings } from '../settings/index.ts';
import type { Bus, Store } from '../state/types.ts';

export interface HealthDeps {
  store: Store;
  bus: Bus;
  settings: Settings;
  /** Aborted when the instance starts shutting down. */
  closing?: AbortSignal;
  /** The state of the circuit in front of the NoPass server (nopass/circuit.ts). */
  nopassCircuit?: () => CircuitState;
}

async function dependencyReasons(deps: HealthDeps): Promise<string[]> {
  const { store, bus, settings } = deps;
  const reasons: string[] = [];
  const [storeUp, busUp] = await Promise.all([
    store.ping().catch(() => false),
    bus.ping().catch(() => false),
  ]);
  if (!storeUp) reasons.push('store not reachable');
  if (!busUp) reasons.push('event bus not reachable');
  if (storeUp && !settings.configuredPortal && !(await store.getPortal().catch(() => true))) {
    reasons.push('portal not registered with NoPass yet');
  }
  if (deps.nopassCircuit?.() === 'open') reasons.push('NoPass server failing (circuit open)');
  return reasons;
}

export function createHealthRouter(deps: HealthDeps): Router {
  const { closing } = deps;
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const reasons = closing?.aborted
      ? // Store and bus close as part of the shutdown: that is the one reason that matters.
        ['shutting down']
      : await dependencyReasons(deps);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = reasons.length === 0 ? 200 : 503;
    ctx.body = { status: reasons.length === 0 ? 'ready' : 'not_ready', reasons };
  });
  return router;
}
