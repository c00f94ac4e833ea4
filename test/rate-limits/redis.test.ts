/**
 * The rate limits with Redis, against a redis-server of the test's own: two bridge instances on
 * one Redis count against one number (under REDIS_KEY_PREFIX), and while Redis is unreachable
 * each instance counts in its own memory instead of failing the request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createBridge, type Bridge } from '../../src/app.ts';
import { createLogger } from '../../src/log.ts';
import { Browser, last, type Hop } from '../helpers/browser.ts';
import { authorizationRequest, startHarness, type Harness } from '../helpers/harness.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';

/** A fresh browser on the user id form of a new sign-in, opened on the harness's instance. */
async function openForm(h: Harness): Promise<{ browser: Browser; interaction: string }> {
  const browser = new Browser();
  const request = await authorizationRequest(h.rp);
  const form = last(await browser.follow(request.url.href));
  assert.equal(form.status, 200, form.body);
  return { browser, interaction: form.url };
}

/** Sends the user id form to `origin`, the way a load balancer may route it to any instance. */
function sendUserId(
  browser: Browser,
  interaction: string,
  origin: string,
  userId: string,
): Promise<Hop> {
  const path = `${new URL(interaction).pathname}/login`;
  const token = browser.csrfTokens.get(path) ?? '';
  return browser.request(`${origin}${path}`, {
    method: 'POST',
    body: new URLSearchParams({ userId, _csrf: token }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}

describe('rate limits kept in Redis', { timeout: 60_000 }, () => {
  let redis: RedisServer;
  let h: Harness;
  let second: Bridge;
  let secondUrl: string;

  before(async () => {
    redis = await startRedis();
    h = await startHarness({
      env: {
        REDIS_URL: redis.url,
        RATE_LIMIT_SIGNIN_PER_USER: '2',
        RATE_LIMIT_CALLBACKS_PER_IP: '5',
      },
    });
    // Another instance of the same deployment: same settings, same Redis, its own memory.
    second = await createBridge({
      settings: h.settings,
      log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
      nopassServerUrl: h.simulatorUrl,
    });
    secondUrl = (await second.listen(0, '127.0.0.1')).url;
  });
  after(async () => {
    await second.close();
    await h.stop();
    await redis.close();
  });

  it('counts attempts on both instances against one limit', async () => {
    const victim = 'shared-count';
    assert.equal((await h.control('/control/users', { userId: victim })).status, 200);
    const origins = [h.issuer, secondUrl, h.issuer, secondUrl];
    const statuses: number[] = [];
    for (const origin of origins) {
      const { browser, interaction } = await openForm(h);
      statuses.push((await sendUserId(browser, interaction, origin, victim)).status);
    }
    // Each instance saw two attempts: only a shared count refuses the third and the fourth.
    assert.deepEqual(statuses, [303, 303, 429, 429]);
    assert.equal((await h.auths(victim)).length, 2);

    const client = new Redis(redis.url);
    try {
      const keys = await client.keys('nopass:rate:signin_user:*');
      assert.equal(keys.length, 1, keys.join(', '));
      assert.ok(!keys[0]?.includes(victim), 'the user id is kept as a hash');
    } finally {
      client.disconnect();
    }
  });

  it('counts in memory while Redis is unreachable, and never answers 500', async () => {
    const { browser, interaction } = await openForm(h);
    await redis.stop();

    // The limit lets the form through; what fails is the store the sign-in needs.
    const form = await sendUserId(browser, interaction, h.issuer, 'demo');
    assert.equal(form.status, 503, form.body);

    const call = (): Promise<Response> =>
      fetch(`${h.issuer}/api/PortalCommunication/UpdatePicture`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: '{}',
      });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) {
      const answer = await call();
      statuses.push(answer.status);
      await answer.body?.cancel();
    }
    // A count of this instance's own, fresh when Redis went away: five allowed, then refused.
    assert.deepEqual(statuses, [400, 400, 400, 400, 400, 429]);
  });
});
