/**
 * A sign-in whose state is gone from the store (Redis flushed, restarted without persistence,
 * or a record evicted) ends with "please start again", on the live stream and on the picture
 * page alike: never a picture that silently stops changing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Browser, last } from '../helpers/browser.ts';
import { authorizationRequest, startHarness, type Harness } from '../helpers/harness.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';

describe('sign-in whose state was lost', { timeout: 15_000 }, () => {
  let redis: RedisServer;
  let raw: Redis;
  let h: Harness;

  before(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
    h = await startHarness({ env: { REDIS_URL: redis.url } });
  });
  after(async () => {
    await h.stop();
    raw.disconnect();
    await redis.close();
  });

  async function toPicture(browser: Browser): Promise<string> {
    const request = await authorizationRequest(h.rp, { login_hint: 'demo' });
    const final = last(await browser.follow(request.url.href));
    assert.equal(final.status, 200);
    assert.match(final.url, /\/picture$/);
    return final.url.replace(/\/picture$/, '');
  }

  async function events(browser: Browser, interaction: string): Promise<string> {
    const cookie = await browser.jar.getCookieString(`${interaction}/events`);
    const response = await fetch(`${interaction}/events`, { headers: { cookie } });
    assert.equal(response.status, 200, 'an EventSource would give up on an error status');
    return response.text();
  }

  it('tells the page to start again when the pending login is gone', async () => {
    const browser = new Browser();
    const interaction = await toPicture(browser);
    const loginKeys = await raw.keys('nopass:login*');
    assert.ok(loginKeys.length >= 2, 'the login and its interaction index are in Redis');
    await raw.del(...loginKeys);

    assert.match(await events(browser, interaction), /"status":"expired"/);
    const page = await browser.get(`${interaction}/picture`);
    assert.equal(page.status, 200);
    assert.match(page.body, /no longer in progress/);
    assert.match(page.body, /name="userId"/, 'with the form to start again');
  });

  it('tells the page to start again when everything is gone', async () => {
    const browser = new Browser();
    const interaction = await toPicture(browser);
    await raw.flushdb();

    assert.match(await events(browser, interaction), /"status":"expired"/);
    const page = await browser.get(`${interaction}/picture`);
    assert.equal(page.status, 400);
    assert.match(page.body, /sign in again/);
  });
});
