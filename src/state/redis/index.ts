/**
 * Redis mode: where the state lives when the bridge runs as several identical instances behind
 * a load balancer. Any instance can take any request: the pending login a callback changes on
 * instance B is the one the picture page on instance A reads, the event B publishes reaches
 * A's stream, and oidc-provider's sessions, codes and tokens are the same everywhere.
 *
 *   connection.ts    settings → ioredis options; fail fast, reconnect forever
 *   keys.ts          the key layout under REDIS_KEY_PREFIX
 *   scripts.ts       the Lua scripts behind every atomic step
 *   store.ts         pending logins, portal, users, secrets
 *   oidc-adapter.ts  oidc-provider's models
 *   bus.ts           login events over pub/sub
 */
import type { Logger } from '../../log.ts';
import type { RedisSettings } from '../../settings/index.ts';
import { RedisBus } from './bus.ts';
import {
  connect,
  type RedisClient,
  describeRedis,
  disconnect,
  redisPlan,
  waitUntilReady,
  watchConnection,
} from './connection.ts';
import { redisKeys, type RedisKeys } from './keys.ts';
import { RedisStore } from './store.ts';

export { RedisBus } from './bus.ts';
export { RedisStore } from './store.ts';

/** How long start-up waits for Redis before giving up with a message that says where. */
export const STARTUP_TIMEOUT_MS = 10_000;

/**
 * Connects the store and the bus and waits (bounded) until both work: an instance that cannot
 * reach Redis at start has no signing keys to serve with, so it stops with a clear message.
 */
export async function openRedisState(
  settings: RedisSettings,
  log: Logger,
  startupTimeoutMs = STARTUP_TIMEOUT_MS,
): Promise<{ store: RedisStore; bus: RedisBus; client: RedisClient; keys: RedisKeys }> {
  const where = describeRedis(settings);
  const commands = connect(redisPlan(settings, 'commands'));
  const subscriber = connect(redisPlan(settings, 'subscriber'));
  watchConnection(commands, 'commands', log);
  watchConnection(subscriber, 'subscriber', log);

  const keys = redisKeys(settings.keyPrefix);
  const store = new RedisStore({ client: commands, keys });
  const bus = new RedisBus({ publisher: commands, subscriber, channel: keys.events, log });
  try {
    await waitUntilReady(commands, startupTimeoutMs, where);
    let timer: NodeJS.Timeout | undefined;
    const subscribed = Promise.race([
      bus.start(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Redis (${where}) did not confirm the subscription`)),
          startupTimeoutMs,
        );
      }),
    ]);
    await subscribed.finally(() => clearTimeout(timer));
  } catch (error) {
    await Promise.all([disconnect(commands), disconnect(subscriber)]);
    throw error;
  }
  log.info({ redis: where, key_prefix: settings.keyPrefix }, 'state kept in redis');
  // The command connection and key layout also serve the rate limits (http/rate-limits.ts).
  return { store, bus, client: commands, keys };
}
