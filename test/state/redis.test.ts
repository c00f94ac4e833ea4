/**
 * The Redis store and bus against a real redis-server of the test's own: the shared contract
 * (each handle is a new pair of connections, like another instance), then what only Redis
 * has: an outage that fails fast and heals by itself, with the bus subscribed again; the key
 * prefix; and a start-up that gives up, bounded, when Redis is not there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { StoreUnavailable } from '../../src/http/errors.ts';
import { createLogger } from '../../src/log.ts';
import type { RedisSettings } from '../../src/settings/index.ts';
import { openRedisState } from '../../src/state/redis/index.ts';
import type { LoginEvent } from '../../src/state/types.ts';
import { freePort, startRedis, type RedisServer } from '../helpers/redis.ts';
import { eventually, runConformance, type StateHandle } from './conformance.ts';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

function settingsFor(url: string, keyPrefix = 'nopass:'): RedisSettings {
  return {
    url,
    sentinels: undefined,
    sentinelName: undefined,
    sentinelPassword: undefined,
    clusterNodes: undefined,
    keyPrefix,
  };
}

async function closeAll(handles: StateHandle[]): Promise<void> {
  for (const handle of handles) {
    await handle.bus.close();
    await handle.store.close();
  }
}

runConformance('redis', async () => {
  const server = await startRedis();
  const handles: StateHandle[] = [];
  return {
    async open() {
      const handle = await openRedisState(settingsFor(server.url, 'conformance:'), log);
      handles.push(handle);
      return handle;
    },
    async close() {
      await closeAll(handles);
      await server.close();
    },
  };
});

describe('redis: when Redis goes away and comes back', { timeout: 30_000 }, () => {
  let server: RedisServer;
  let a: StateHandle;
  let b: StateHandle;

  before(async () => {
    server = await startRedis();
    a = await openRedisState(settingsFor(server.url), log);
    b = await openRedisState(settingsFor(server.url), log);
  });
  after(async () => {
    await closeAll([a, b]);
    await server.close();
  });

  it('fails fast while it is down, then serves again without a restart', async () => {
    const now = Date.now();
    const login = {
      authId: 'outage-auth',
      interactionUid: 'outage-uid',
      userId: 'alice',
      clientId: 'rp',
      image: 'aW1hZ2U=',
      nextChange: 60_000,
      pictureAt: now,
      pictureSeq: 1,
      deadline: now + 65_000,
      verdict: 'waiting' as const,
      consumed: false,
      createdAt: now,
    };
    await a.store.createLogin(login, 60_000);
    const heard: LoginEvent[] = [];
    const off = a.bus.subscribe(login.authId, (event) => heard.push(event));

    await server.stop();
    await eventually(async () => assert.equal(await a.store.ping(), false), 3000);

    const started = Date.now();
    await assert.rejects(a.store.getLogin(login.authId), (error: unknown) => {
      assert.ok(error instanceof StoreUnavailable);
      assert.equal(error.status, 503);
      assert.equal(error.code, 'store_unavailable');
      assert.match(error.description, /temporarily unavailable/);
      return true;
    });
    await assert.rejects(b.store.settleLogin(login.authId, true, undefined, now), StoreUnavailable);
    await assert.rejects(
      b.bus.publish({ authId: login.authId, kind: 'verdict' }),
      StoreUnavailable,
    );
    await assert.rejects(a.store.oidcAdapter('Session').find('x'), StoreUnavailable);
    assert.ok(Date.now() - started < 1000, 'refused at once, not after a long wait');

    await server.start();
    await eventually(async () => assert.equal(await a.store.ping(), true), 5000);
    await eventually(async () => assert.equal(await b.store.ping(), true), 5000);
    assert.equal((await a.store.getLogin(login.authId))?.verdict, 'waiting', 'state kept');

    // The bus subscribed again by itself: its listeners were told to read again, and hear
    // what is published from now on.
    await eventually(() => assert.ok(heard.some((event) => event.kind === 'resync')), 5000);
    assert.ok((await b.store.settleLogin(login.authId, true, undefined, Date.now())).ok);
    await b.bus.publish({ authId: login.authId, kind: 'verdict' });
    await eventually(() =>
      assert.ok(heard.some((event) => event.kind === 'verdict' && event.authId === login.authId)),
    );
    off();
  });
});

describe('redis: key prefix', { timeout: 15_000 }, () => {
  let server: RedisServer;
  let one: StateHandle;
  let two: StateHandle;
  let raw: Redis;

  before(async () => {
    server = await startRedis();
    one = await openRedisState(settingsFor(server.url, 'one:'), log);
    two = await openRedisState(settingsFor(server.url, 'two:'), log);
    raw = new Redis(server.url);
  });
  after(async () => {
    raw.disconnect();
    await closeAll([one, two]);
    await server.close();
  });

  it('keeps every key under the prefix, so deployments sharing a Redis stay apart', async () => {
    await one.store.setPortalIfAbsent({ portalId: 'p1', authToken: 't1', registeredAt: 1 });
    await one.store.recordSignIn('alice', 1);
    await one.store.oidcAdapter('Session').upsert('s1', { uid: 'u1' }, 60);
    await one.store.addConsent('alice', 'rp', ['openid'], 60_000);
    await one.store.addConsent('alice', 'other', ['openid'], 60_000);
    assert.equal(await two.store.getPortal(), undefined);
    assert.equal(await two.store.getUser('alice'), undefined);
    assert.deepEqual(await two.store.listConsents('alice'), []);
    assert.equal(await two.store.withdrawConsent('alice', 'rp'), false);
    assert.equal(await one.store.withdrawConsent('alice', 'rp'), true);
    assert.deepEqual(
      (await one.store.listConsents('alice')).map(({ clientId }) => clientId),
      ['other'],
    );

    const keys = await raw.keys('*');
    assert.ok(keys.length >= 4);
    assert.deepEqual(
      keys.filter((key) => !key.startsWith('one:')),
      [],
      'nothing outside the prefix',
    );

    const heardByTwo: LoginEvent[] = [];
    const off = two.bus.subscribe('shared-auth', (event) => heardByTwo.push(event));
    const heardByOne: LoginEvent[] = [];
    const offOne = one.bus.subscribe('shared-auth', (event) => heardByOne.push(event));
    await one.bus.publish({ authId: 'shared-auth', kind: 'picture' });
    await eventually(() => assert.equal(heardByOne.length, 1));
    assert.deepEqual(heardByTwo, [], 'events stay within the prefix too');
    off();
    offOne();
  });
});

describe('redis: start-up without Redis', { timeout: 15_000 }, () => {
  it('gives up within its bound and says where it looked', async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(
      openRedisState(settingsFor(`redis://:hunter2@127.0.0.1:${port}`), log, 600),
      (error: Error) => {
        assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}.*did not answer`));
        assert.doesNotMatch(error.message, /hunter2/, 'no password in the message');
        return true;
      },
    );
    assert.ok(Date.now() - started < 3000);
  });
});
