/**
 * /healthz says the process is alive; /readyz says whether it can sign people in: the store
 * answers and a portal registration exists, and the instance is not shutting down (so a load
 * balancer stops sending it new sign-ins while it drains).
 */
import Router from '@koa/router';
import type { Settings } from '../settings/index.ts';
import type { Store } from '../state/types.ts';

export function createHealthRouter(
  store: Store,
  settings: Settings,
  closing?: AbortSignal,
): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const reasons: string[] = [];
    if (closing?.aborted) reasons.push('shutting down');
    const storeUp = await store.ping().catch(() => false);
    if (!storeUp) reasons.push('store not reachable');
    else if (!settings.configuredPortal && !(await store.getPortal())) {
      reasons.push('portal not registered with NoPass yet');
    }
    ctx.status = reasons.length === 0 ? 200 : 503;
    ctx.body = { status: reasons.length === 0 ? 'ready' : 'not_ready', reasons };
  });
  return router;
}
