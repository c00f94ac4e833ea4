/**
 * The rate limits on their own, counting in memory: what a client is counted by, a limit of 0
 * being off, user ids counted without regard to case, and the settings that set them.
 */
import assert from 'node:assert/strict';
import type { Context } from 'koa';
import { describe, it } from 'node:test';
import { RateLimited } from '../../src/http/errors.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { clientKey, createRateLimits } from '../../src/http/rate-limits.ts';
import { createLogger } from '../../src/log.ts';
import { readSettings, SettingsError, type RateLimitSettings } from '../../src/settings/index.ts';

/** Just what the limits read from a request: its address and the request's state. */
function request(ip: string): Context {
  return { ip, state: {} } as unknown as Context;
}

function limits(settings: Partial<RateLimitSettings>) {
  return createRateLimits({
    settings: {
      windowSeconds: 60,
      signInPerIp: 0,
      signInPerUser: 0,
      callbacksPerIp: 0,
      ...settings,
    },
    log: createLogger('silent'),
    metrics: createMetrics({ defaultMetrics: false }),
  });
}

/** How many of `attempts` went through before the first refusal (all when none was refused). */
async function allowed(attempts: number, attempt: () => Promise<void>): Promise<number> {
  for (let done = 0; done < attempts; done += 1) {
    try {
      await attempt();
    } catch (error) {
      assert.ok(error instanceof RateLimited, String(error));
      return done;
    }
  }
  return attempts;
}

describe('what a client is counted by', () => {
  const cases: [string, string][] = [
    ['192.0.2.10', '192.0.2.10'],
    ['::ffff:192.0.2.10', '192.0.2.10'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['not-an-address', 'not-an-address'],
  ];
  for (const [ip, key] of cases) {
    it(`${ip} → ${key}`, () => assert.equal(clientKey(ip), key));
  }

  it('counts two addresses of one IPv6 /64 together, and another /64 apart', async () => {
    const limited = limits({ signInPerIp: 2 });
    await limited.signIn(request('2001:db8:1:2::a'));
    await limited.signIn(request('2001:db8:1:2::b'));
    await assert.rejects(limited.signIn(request('2001:db8:1:2::c')), RateLimited);
    await limited.signIn(request('2001:db8:1:3::a'));
  });
});

describe('counting', () => {
  it('allows exactly the limit, then refuses with the wait in whole seconds', async () => {
    const limited = limits({ signInPerIp: 3, windowSeconds: 30 });
    assert.equal(await allowed(10, () => limited.signIn(request('192.0.2.1'))), 3);
    const refusal = await limited.signIn(request('192.0.2.1')).then(
      () => assert.fail('a fourth attempt went through'),
      (error: unknown) => error as RateLimited,
    );
    assert.equal(refusal.status, 429);
    assert.equal(refusal.code, 'rate_limited');
    assert.ok(refusal.retryAfterS >= 1 && refusal.retryAfterS <= 30, `${refusal.retryAfterS}`);
  });

  it('counts a user id in any letter case as one', async () => {
    const limited = limits({ signInPerUser: 2 });
    await limited.signIn(request('192.0.2.1'), { userId: 'Alice' });
    await limited.signIn(request('192.0.2.2'), { userId: 'alice ' });
    await assert.rejects(limited.signIn(request('192.0.2.3'), { userId: 'ALICE' }), RateLimited);
    await limited.signIn(request('192.0.2.3'), { userId: 'bob' });
  });

  it('passes the page to go back to on to the refusal', async () => {
    const limited = limits({ signInPerIp: 1 });
    await limited.signIn(request('192.0.2.1'), { backUrl: '/interaction/abc' });
    await assert.rejects(
      limited.signIn(request('192.0.2.1'), { backUrl: '/interaction/abc' }),
      (error: unknown) => error instanceof RateLimited && error.backUrl === '/interaction/abc',
    );
  });

  it('keeps the callbacks and the sign-in forms apart', async () => {
    const limited = limits({ signInPerIp: 1, callbacksPerIp: 1 });
    await limited.signIn(request('192.0.2.1'));
    await limited.callback(request('192.0.2.1'));
    await assert.rejects(limited.callback(request('192.0.2.1')), RateLimited);
  });

  it('turns a limit set to 0 off, leaving the others on', async () => {
    const attempts = 500;
    const perUserOnly = limits({ signInPerIp: 0, signInPerUser: 2, callbacksPerIp: 0 });
    assert.equal(await allowed(attempts, () => perUserOnly.signIn(request('192.0.2.1'))), attempts);
    assert.equal(
      await allowed(attempts, () => perUserOnly.callback(request('192.0.2.1'))),
      attempts,
    );
    const sameUser = () => perUserOnly.signIn(request('192.0.2.1'), { userId: 'carol' });
    assert.equal(await allowed(attempts, sameUser), 2);

    const perIpOnly = limits({ signInPerIp: 2, signInPerUser: 0 });
    let address = 0;
    const newAddress = () => {
      address += 1;
      return perIpOnly.signIn(request(`198.51.100.${address}`), { userId: 'dave' });
    };
    assert.equal(await allowed(200, newAddress), 200);
  });
});

describe('rate limit settings', () => {
  const read = (env: Record<string, string>) => readSettings(env, () => 'x').rateLimits;

  it('defaults to limits a person never meets', () => {
    assert.deepEqual(read({}), {
      windowSeconds: 60,
      signInPerIp: 100,
      signInPerUser: 10,
      callbacksPerIp: 20_000,
    });
  });

  it('reads every limit, 0 included', () => {
    assert.deepEqual(
      read({
        RATE_LIMIT_WINDOW_SECONDS: '5',
        RATE_LIMIT_SIGNIN_PER_IP: '0',
        RATE_LIMIT_SIGNIN_PER_USER: '3',
        RATE_LIMIT_CALLBACKS_PER_IP: '0',
      }),
      { windowSeconds: 5, signInPerIp: 0, signInPerUser: 3, callbacksPerIp: 0 },
    );
  });

  const wrong: [Record<string, string>, string][] = [
    [{ RATE_LIMIT_WINDOW_SECONDS: '0' }, 'RATE_LIMIT_WINDOW_SECONDS'],
    [{ RATE_LIMIT_WINDOW_SECONDS: '1.5' }, 'RATE_LIMIT_WINDOW_SECONDS'],
    [{ RATE_LIMIT_SIGNIN_PER_IP: '-1' }, 'RATE_LIMIT_SIGNIN_PER_IP'],
    [{ RATE_LIMIT_SIGNIN_PER_USER: 'ten' }, 'RATE_LIMIT_SIGNIN_PER_USER'],
    [{ RATE_LIMIT_CALLBACKS_PER_IP: '1e9' }, 'RATE_LIMIT_CALLBACKS_PER_IP'],
  ];
  for (const [env, name] of wrong) {
    it(`refuses ${JSON.stringify(env)}, naming ${name}`, () => {
      assert.throws(
        () => read(env),
        (error: unknown) => error instanceof SettingsError && error.setting === name,
      );
    });
  }
});
