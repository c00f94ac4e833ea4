/**
 * /healthz says the process is alive (for a restart policy: it answers as long as the event
 * loop does, whatever Redis or NoPass are doing). /readyz says whether this instance can sign
 * people in (for a load balancer): the store answers, the event bus is connected, a portal
 * registration exists, and the instance is not shutting down, so traffic moves elsewhere while
 * it drains. Both answer JSON; /readyz lists what is wrong:
 *
 *   200 {"status":"ready","reasons":[]}
 *   503 {"status":"not_ready","reasons":["store not reachable", ...]}
 */
import Router from '@koa/router';
import type { Settings } from '../settings/index.ts';
import type { Bus, Store } from '../state/types.ts';

export interface HealthDeps {
  store: Store;
  bus: Bus;
  settings: Settings;
  /** Aborted when the instance starts shutting down. */
  closing?: AbortSignal;
}

async function dependencyReasons({ store, bus, settings }: HealthDeps): Promise<string[]> {
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
