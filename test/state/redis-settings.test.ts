/**
 * The Redis settings as an operator writes them, and the ioredis options they become: one
 * server by URL, Sentinel, Cluster. No Sentinel or Cluster runs here; what is checked is that
 * each setting reaches ioredis where it belongs, and that a wrong one stops start-up naming it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSettings, SettingsError, type RedisSettings } from '../../src/settings/index.ts';
import {
  COMMAND_TIMEOUT_MS,
  describeRedis,
  reconnectDelay,
  redisPlan,
} from '../../src/state/redis/connection.ts';

function redisOf(env: Record<string, string>): RedisSettings | undefined {
  return readSettings({ LOG_LEVEL: 'silent', ...env }, () => 'x').redis;
}

function refused(env: Record<string, string>): SettingsError {
  try {
    redisOf(env);
  } catch (error) {
    assert.ok(error instanceof SettingsError, String(error));
    return error;
  }
  assert.fail('expected a SettingsError');
}

describe('Redis settings', () => {
  it('keeps state in memory when no Redis setting is there', () => {
    assert.equal(redisOf({}), undefined);
    assert.equal(redisOf({ REDIS_KEY_PREFIX: 'x:' }), undefined);
  });

  it('reads a URL and a key prefix (nopass: by default)', () => {
    const redis = redisOf({ REDIS_URL: 'rediss://user:secret@cache.internal:6380/2' });
    assert.equal(redis?.url, 'rediss://user:secret@cache.internal:6380/2');
    assert.equal(redis?.keyPrefix, 'nopass:');
    assert.equal(
      redisOf({ REDIS_URL: 'redis://r', REDIS_KEY_PREFIX: 'team-a:' })?.keyPrefix,
      'team-a:',
    );
  });

  it('reads sentinels and cluster nodes as host:port lists', () => {
    const sentinel = redisOf({
      REDIS_SENTINELS: 's1:26379, s2 ,[fd00::3]:26380',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    });
    assert.deepEqual(sentinel?.sentinels, [
      { host: 's1', port: 26379 },
      { host: 's2', port: 26379 },
      { host: 'fd00::3', port: 26380 },
    ]);
    assert.equal(sentinel?.sentinelName, 'mymaster');
    assert.equal(sentinel?.url, undefined);

    const cluster = redisOf({ REDIS_CLUSTER_NODES: 'n1:7000,n2:7001,n3' });
    assert.deepEqual(cluster?.clusterNodes, [
      { host: 'n1', port: 7000 },
      { host: 'n2', port: 7001 },
      { host: 'n3', port: 6379 },
    ]);
  });

  it('stops start-up on a wrong value, naming the setting and never echoing a password', () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ REDIS_URL: 'http://r:6379' }, 'REDIS_URL', /redis:\/\/ or rediss:\/\//],
      [{ REDIS_URL: 'redis://:pw@r/abc' }, 'REDIS_URL', /database number/],
      [{ REDIS_URL: 'not a url with pw' }, 'REDIS_URL', /expected a URL/],
      [{ REDIS_SENTINELS: 's1:26379' }, 'REDIS_SENTINEL_NAME', /name the master/],
      [{ REDIS_SENTINEL_NAME: 'mymaster' }, 'REDIS_SENTINELS', /host:port/],
      [{ REDIS_SENTINELS: 's1:99999', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS', /s1:99999/],
      [{ REDIS_CLUSTER_NODES: 'n1:7000,:7001' }, 'REDIS_CLUSTER_NODES', /:7001/],
      [
        { REDIS_CLUSTER_NODES: 'n1:7000', REDIS_SENTINELS: 's1', REDIS_SENTINEL_NAME: 'm' },
        'REDIS_CLUSTER_NODES',
        /not both/,
      ],
      [{ REDIS_CLUSTER_NODES: 'n1', REDIS_URL: 'redis://r/3' }, 'REDIS_URL', /database 0/],
      [{ REDIS_URL: 'redis://r', REDIS_KEY_PREFIX: 'a b' }, 'REDIS_KEY_PREFIX', /no spaces/],
    ];
    for (const [env, setting, message] of cases) {
      const error = refused(env);
      assert.equal(error.setting, setting, JSON.stringify(env));
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /pw/);
    }
  });
});

describe('ioredis options', () => {
  const base: RedisSettings = {
    url: undefined,
    sentinels: undefined,
    sentinelName: undefined,
    sentinelPassword: undefined,
    clusterNodes: undefined,
    keyPrefix: 'nopass:',
  };

  it('makes commands fail fast and reconnect forever, at most a second apart', () => {
    const plan = redisPlan({ ...base, url: 'redis://r:6379' }, 'commands');
    assert.ok(plan.mode === 'standalone');
    assert.equal(plan.url, 'redis://r:6379');
    assert.equal(plan.options.enableOfflineQueue, false);
    assert.equal(plan.options.commandTimeout, COMMAND_TIMEOUT_MS);
    assert.equal(plan.options.maxRetriesPerRequest, 1);
    assert.equal(plan.options.retryStrategy, reconnectDelay);
    assert.deepEqual([1, 2, 5, 100, 10_000].map(reconnectDelay), [200, 400, 1000, 1000, 1000]);
  });

  it('lets the subscriber wait for Redis instead, so it subscribes whenever Redis is back', () => {
    const plan = redisPlan({ ...base, url: 'redis://r:6379' }, 'subscriber');
    assert.ok(plan.mode === 'standalone');
    assert.equal(plan.options.enableOfflineQueue, true);
    assert.equal(plan.options.maxRetriesPerRequest, null);
  });

  it('passes sentinels, the master name and the credentials of the URL to ioredis', () => {
    const plan = redisPlan(
      {
        ...base,
        url: 'rediss://app:p%40ss@ignored:1/3',
        sentinels: [{ host: 's1', port: 26379 }],
        sentinelName: 'mymaster',
        sentinelPassword: 'sentinel-secret',
      },
      'commands',
    );
    assert.ok(plan.mode === 'sentinel');
    const { options } = plan;
    assert.deepEqual(options.sentinels, [{ host: 's1', port: 26379 }]);
    assert.equal(options.name, 'mymaster');
    assert.equal(options.sentinelPassword, 'sentinel-secret');
    assert.equal(options.username, 'app');
    assert.equal(options.password, 'p@ss');
    assert.equal(options.db, 3);
    assert.deepEqual(options.tls, {});
    assert.equal(options.enableTLSForSentinelMode, true);
    assert.equal(options.enableOfflineQueue, false);
    assert.equal(options.sentinelRetryStrategy, reconnectDelay);
  });

  it('passes cluster nodes to ioredis, with the credentials for every node', () => {
    const plan = redisPlan(
      { ...base, url: 'redis://:secret@x', clusterNodes: [{ host: 'n1', port: 7000 }] },
      'commands',
    );
    assert.ok(plan.mode === 'cluster');
    assert.deepEqual(plan.nodes, [{ host: 'n1', port: 7000 }]);
    assert.equal(plan.options.enableOfflineQueue, false);
    assert.equal(plan.options.clusterRetryStrategy, reconnectDelay);
    assert.equal(plan.options.redisOptions?.password, 'secret');
    assert.equal(plan.options.redisOptions?.commandTimeout, COMMAND_TIMEOUT_MS);
    assert.equal(plan.options.redisOptions?.tls, undefined);
  });

  it('describes where Redis is without the password', () => {
    assert.equal(
      describeRedis({ ...base, url: 'redis://:secret@cache:6380/1' }),
      'redis://cache:6380/1',
    );
    assert.equal(
      describeRedis({ ...base, sentinels: [{ host: '::1', port: 26379 }], sentinelName: 'm' }),
      'sentinel master "m" via [::1]:26379',
    );
    assert.equal(
      describeRedis({ ...base, clusterNodes: [{ host: 'n1', port: 7000 }] }),
      'cluster via n1:7000',
    );
  });
});
