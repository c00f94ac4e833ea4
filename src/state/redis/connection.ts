/**
 * Connecting to Redis: the settings turned into ioredis options, the two connections each
 * instance keeps (one for commands, one subscribed for the bus), and how Redis trouble becomes
 * a `StoreUnavailable`.
 *
 * Fail fast, recover by itself: while Redis is unreachable the command connection refuses a
 * command at once (no offline queue), and a command already sent gives up after
 * COMMAND_TIMEOUT_MS, so a request that needs Redis answers 503 within a couple of seconds
 * instead of piling up. Meanwhile the connection keeps reconnecting, at most a second apart,
 * so service resumes without a restart when Redis is back.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { StoreUnavailable } from '../../http/errors.ts';
import type { Logger } from '../../log.ts';
import type { RedisNode, RedisSettings } from '../../settings/index.ts';

/** A connection to one Redis server (direct or through Sentinel) or to a Cluster. */
export type RedisClient = Redis | Cluster;

/** How long one command may take before the request that needs it fails. */
export const COMMAND_TIMEOUT_MS = 2000;

/** What the command connection is for; the subscriber is used by the bus only. */
export type ConnectionRole = 'commands' | 'subscriber';

/** The ioredis constructor arguments for one connection, ready to use. */
export type RedisPlan =
  | { mode: 'standalone'; url: string; options: RedisOptions }
  | { mode: 'sentinel'; options: RedisOptions }
  | { mode: 'cluster'; nodes: RedisNode[]; options: ClusterOptions };

/** Delay before reconnection attempt `attempt`: quick at first, then once a second, forever. */
export function reconnectDelay(attempt: number): number {
  return Math.min(attempt * 200, 1000);
}

function roleOptions(role: ConnectionRole): RedisOptions {
  if (role === 'commands') {
    return {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: COMMAND_TIMEOUT_MS,
    };
  }
  // The subscriber waits for Redis instead: its SUBSCRIBE stays queued while Redis is away,
  // and ioredis subscribes again after every reconnection. No request ever waits on it.
  // No ready check either: its INFO can reach Redis after the queued SUBSCRIBE, which Redis then
  // refuses on a subscribed connection, and the connection drops once at every start.
  return { enableOfflineQueue: true, maxRetriesPerRequest: null, enableReadyCheck: false };
}

interface Credentials {
  username?: string;
  password?: string;
  db?: number;
  tls?: Record<string, never>;
}

/** What a URL contributes when Sentinel or Cluster says where the servers are. */
function credentialsOf(url: string | undefined): Credentials {
  if (url === undefined) return {};
  const parsed = new URL(url);
  const credentials: Credentials = {};
  if (parsed.username) credentials.username = decodeURIComponent(parsed.username);
  if (parsed.password) credentials.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '') credentials.db = Number(db);
  if (parsed.protocol === 'rediss:') credentials.tls = {};
  return credentials;
}

/** The ioredis options for one connection of the given role. Pure, so it is unit-tested. */
export function redisPlan(settings: RedisSettings, role: ConnectionRole): RedisPlan {
  const common: RedisOptions = {
    connectTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: reconnectDelay,
    // Only the command connection is named: ioredis names a connection with CLIENT SETNAME on
    // every (re)connection, which a connection already in subscriber mode refuses, so the
    // subscriber would drop and reconnect once at every start.
    ...(role === 'commands' ? { connectionName: `nopass-bridge-${role}` } : {}),
    ...roleOptions(role),
  };

  if (settings.clusterNodes) {
    // A Cluster has database 0 only, and reconnects through its own strategy.
    const { username, password, tls } = credentialsOf(settings.url);
    const { connectTimeout, connectionName, maxRetriesPerRequest, commandTimeout } = common;
    return {
      mode: 'cluster',
      nodes: settings.clusterNodes,
      options: {
        enableOfflineQueue: common.enableOfflineQueue,
        clusterRetryStrategy: reconnectDelay,
        redisOptions: {
          connectTimeout,
          connectionName,
          maxRetriesPerRequest,
          commandTimeout,
          username,
          password,
          tls,
        },
      },
    };
  }

  if (settings.sentinels) {
    const credentials = credentialsOf(settings.url);
    return {
      mode: 'sentinel',
      options: {
        ...common,
        ...credentials,
        sentinels: settings.sentinels,
        name: settings.sentinelName,
        sentinelPassword: settings.sentinelPassword,
        // rediss: means TLS everywhere, to the sentinels as well as to the servers.
        enableTLSForSentinelMode: credentials.tls !== undefined,
        sentinelRetryStrategy: reconnectDelay,
      },
    };
  }

  if (settings.url === undefined) throw new Error('Redis settings name no server');
  return { mode: 'standalone', url: settings.url, options: common };
}

/** Opens a connection (ioredis connects in the background and reconnects by itself). */
export function connect(plan: RedisPlan): RedisClient {
  switch (plan.mode) {
    case 'standalone':
      return new Redis(plan.url, plan.options);
    case 'sentinel':
      return new Redis(plan.options);
    case 'cluster':
      return new Cluster(plan.nodes, plan.options);
  }
}

/** Where Redis is, for logs and start-up errors: never a password. */
export function describeRedis(settings: RedisSettings): string {
  const list = (nodes: RedisNode[]): string =>
    nodes
      .map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`))
      .join(',');
  if (settings.clusterNodes) return `cluster via ${list(settings.clusterNodes)}`;
  if (settings.sentinels) {
    return `sentinel master "${settings.sentinelName ?? ''}" via ${list(settings.sentinels)}`;
  }
  const url = new URL(settings.url ?? 'redis://localhost');
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

/** Resolves once the connection is ready; rejects after `timeoutMs`. */
export function waitUntilReady(
  client: RedisClient,
  timeoutMs: number,
  where: string,
): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis (${where}) did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    client.once('ready', onReady);
  });
}

/**
 * Logs a connection's trouble once per outage and its recovery once, instead of a line per
 * reconnection attempt. Listening to `error` is also what keeps an outage from being reported
 * as an unhandled error event.
 */
export function watchConnection(client: RedisClient, role: ConnectionRole, log: Logger): void {
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log.warn({ redis_connection: role, err_message: error.message }, 'redis unreachable');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ redis_connection: role }, 'redis reachable again');
  });
}

/** Closes a connection politely, or drops it when Redis is not there to answer. */
export async function disconnect(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  const timer = setTimeout(() => client.disconnect(), COMMAND_TIMEOUT_MS);
  try {
    await client.quit();
  } catch {
    client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs one store operation, turning any Redis failure (unreachable, timed out, refused, out of
 * memory) into `StoreUnavailable`. Errors the store raises on purpose pass through.
 */
export async function guarded<T>(
  operation: string,
  run: () => Promise<T>,
  passThrough: (error: unknown) => boolean = () => false,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof StoreUnavailable || passThrough(error)) throw error;
    throw new StoreUnavailable({
      detail: `redis ${operation}: ${(error as Error).message}`,
      cause: error,
    });
  }
}
