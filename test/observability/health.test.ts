/**
 * /healthz and /readyz as a container runtime and a load balancer use them: alive whatever the
 * dependencies do; ready only with the store and bus reachable and the portal registered, with
 * the reasons spelled out, and ready again by itself once Redis is back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';

interface Readiness {
  status: string;
  reasons: string[];
}

async function probe(url: string): Promise<{ status: number; body: Readiness }> {
  const response = await fetch(url);
  assert.equal(response.headers.get('cache-control'), 'no-store');
  return { status: response.status, body: (await response.json()) as Readiness };
}

/** Polls /readyz until `accept` is true for its answer (bounded). */
async function readinessUntil(
  h: Harness,
  accept: (answer: { status: number; body: Readiness }) => boolean,
): Promise<{ status: number; body: Readiness }> {
  let answer = await probe(`${h.issuer}/readyz`);
  for (let tries = 0; tries < 100 && !accept(answer); tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    answer = await probe(`${h.issuer}/readyz`);
  }
  return answer;
}

describe('health', () => {
  it('is alive and ready once the portal is registered; not ready before, saying why', async () => {
    const h = await startHarness({ unregistered: true });
    try {
      assert.deepEqual(await probe(`${h.issuer}/healthz`), { status: 200, body: { status: 'ok' } });
      assert.deepEqual(await probe(`${h.issuer}/readyz`), {
        status: 503,
        body: { status: 'not_ready', reasons: ['portal not registered with NoPass yet'] },
      });
      await h.simulator.registerPortal({
        webUrl: h.issuer,
        adminId: h.settings.adminId,
        sCode: h.settings.sCode,
      });
      assert.deepEqual(await probe(`${h.issuer}/readyz`), {
        status: 200,
        body: { status: 'ready', reasons: [] },
      });
    } finally {
      await h.stop();
    }
  });

  describe('with Redis', () => {
    let redis: RedisServer;
    let h: Harness;
    before(async () => {
      redis = await startRedis();
      h = await startHarness({ env: { REDIS_URL: redis.url } });
    });
    after(async () => {
      await h.stop();
      await redis.close();
    });

    it('turns not ready while Redis is away, stays alive, and recovers by itself', async () => {
      const first = await readinessUntil(h, (answer) => answer.status === 200);
      assert.equal(first.status, 200, JSON.stringify(first.body));

      await redis.stop();
      const away = await readinessUntil(h, (answer) => answer.body.reasons.length === 2);
      assert.equal(away.status, 503);
      assert.deepEqual(away.body, {
        status: 'not_ready',
        reasons: ['store not reachable', 'event bus not reachable'],
      });
      assert.equal((await probe(`${h.issuer}/healthz`)).status, 200, 'alive all the same');

      await redis.start();
      const back = await readinessUntil(h, (answer) => answer.status === 200);
      assert.deepEqual(back, { status: 200, body: { status: 'ready', reasons: [] } });
    });
  });
});
