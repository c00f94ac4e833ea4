/**
 * Rate limits, counted by rate-limiter-flexible in fixed windows of RATE_LIMIT_WINDOW_SECONDS:
 *
 *   signin_ip     sign-in attempts from one client address: the user id form, a social network's
 *                 button, the registration form, and a sign-in a `login_hint` starts
 *   signin_user   sign-in and registration attempts for one user id, from any address: what
 *                 keeps anyone from flooding a person's phone with approval requests
 *   callbacks_ip  calls to the NoPass callbacks from one source address
 *
 * A limit set to 0 is off. A refusal is a `RateLimited` (429 with Retry-After), counted in
 * `nopass_bridge_rate_limited_total` and logged once; it is raised before the request touches
 * anything, so a refused attempt changes no state.
 *
 * With Redis the counters live there (`rate:<limit>:<ref>` under REDIS_KEY_PREFIX) and every
 * instance counts against the same number. While Redis is unreachable each instance counts in
 * its own memory instead (the library's insurance limiter): the limits still hold, per instance,
 * and no request fails because of them. A key refused once is refused from memory for the rest
 * of its window, so a flood does not turn into a flood of Redis commands.
 *
 * Addresses and user ids are counted and logged as hashes, never in clear. An IPv6 address
 * counts by its /64, the block one subscriber usually holds.
 */
import { isIP } from 'node:net';
import type { Context } from 'koa';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { authRef, type Logger } from '../log.ts';
import type { RateLimitSettings } from '../settings/index.ts';
import type { RedisClient } from '../state/redis/connection.ts';
import { RateLimited } from './errors.ts';
import type { Metrics } from './metrics.ts';
import { requestLog } from './request-id.ts';

export type LimitName = 'signin_ip' | 'signin_user' | 'callbacks_ip';

export interface RateLimits {
  /**
   * Counts one sign-in attempt from the request's address and, when it names one, for
   * `userId`. Throws `RateLimited` (with `backUrl` for the error page's link) when either
   * limit is reached.
   */
  signIn(ctx: Context, attempt?: { userId?: string; backUrl?: string }): Promise<void>;
  /** Counts one call to the callbacks from the request's address; throws `RateLimited`. */
  callback(ctx: Context): Promise<void>;
}

export interface RateLimitOptions {
  settings: RateLimitSettings;
  log: Logger;
  metrics: Metrics;
  /** Counters shared by every instance; without it each instance counts in its own memory. */
  redis?: { client: RedisClient; prefix: (limit: LimitName) => string };
}

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The first `count` groups of an IPv6 address, written out without leading zeros. */
function leadingGroups(address: string, count: number): string[] {
  const [head = '', tail] = address.split('::');
  const split = (text: string): string[] => (text === '' ? [] : text.split(':'));
  const left = split(head);
  const right = tail === undefined ? [] : split(tail);
  // A dotted IPv4 tail (64:ff9b::192.0.2.1) takes the room of two groups.
  const width = (groups: string[]): number =>
    groups.reduce((sum, group) => sum + (group.includes('.') ? 2 : 1), 0);
  const zeros = Array.from({ length: Math.max(0, 8 - width(left) - width(right)) }, () => '0');
  return [...left, ...zeros, ...right]
    .slice(0, count)
    .map((group) => (group.includes('.') ? group : parseInt(group, 16).toString(16)));
}

/**
 * What one client is counted by: an IPv4 address as it is (also when a dual-stack listener
 * reports it as `::ffff:a.b.c.d`), an IPv6 address by its /64. Anything else (a forwarded value
 * that is no address) is counted as it is.
 */
export function clientKey(ip: string): string {
  const mapped = MAPPED_IPV4.exec(ip)?.[1];
  if (mapped) return mapped;
  const plain = ip.split('%')[0] ?? ip;
  if (isIP(plain) !== 6) return ip;
  return `${leadingGroups(plain.toLowerCase(), 4).join(':')}::/64`;
}

interface Limit {
  name: LimitName;
  limiter: RateLimiterAbstract;
}

function createLimit(
  name: LimitName,
  points: number,
  windowSeconds: number,
  redis: RateLimitOptions['redis'],
): Limit | undefined {
  if (points === 0) return undefined;
  const memory = new RateLimiterMemory({ keyPrefix: name, points, duration: windowSeconds });
  if (!redis) return { name, limiter: memory };
  const shared = new RateLimiterRedis({
    storeClient: redis.client,
    keyPrefix: redis.prefix(name),
    points,
    duration: windowSeconds,
    // Straight to the memory counters while the connection is down, instead of a command that
    // can only fail.
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
    inMemoryBlockOnConsumed: points + 1,
  });
  return { name, limiter: shared };
}

export function createRateLimits(options: RateLimitOptions): RateLimits {
  const { settings, log, metrics, redis } = options;
  const window = settings.windowSeconds;
  const signInIp = createLimit('signin_ip', settings.signInPerIp, window, redis);
  const signInUser = createLimit('signin_user', settings.signInPerUser, window, redis);
  const callbacksIp = createLimit('callbacks_ip', settings.callbacksPerIp, window, redis);

  /** Counts one attempt; throws `RateLimited` when the limit was already reached. */
  async function count(
    ctx: Context,
    limit: Limit | undefined,
    key: string,
    logged: Record<string, string>,
    backUrl?: string,
  ): Promise<void> {
    if (!limit) return;
    let retryAfterS: number;
    try {
      await limit.limiter.consume(authRef(key));
      return;
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) {
        // Neither Redis nor the memory counters answered: let the request through rather
        // than fail it.
        requestLog(ctx, log).warn(
          { err: outcome, rate_limit: limit.name },
          'rate limit could not be checked',
        );
        return;
      }
      retryAfterS = Math.max(1, Math.ceil(outcome.msBeforeNext / 1000));
    }
    metrics.rateLimited.inc({ limit: limit.name });
    requestLog(ctx, log).info(
      { rate_limit: limit.name, retry_after_s: retryAfterS, ...logged },
      'rate limit reached',
    );
    throw new RateLimited(retryAfterS, { backUrl, detail: `rate limit ${limit.name}` });
  }

  return {
    async signIn(ctx, attempt = {}) {
      const client = clientKey(ctx.ip);
      await count(ctx, signInIp, client, { client_ref: authRef(client) }, attempt.backUrl);
      const userId = attempt.userId?.trim();
      if (!userId) return;
      // Counted without regard to case, so that spelling a user id differently does not
      // start a fresh count.
      const logged = { user_ref: authRef(userId) };
      await count(ctx, signInUser, userId.toLowerCase(), logged, attempt.backUrl);
    },
    async callback(ctx) {
      const client = clientKey(ctx.ip);
      await count(ctx, callbacksIp, client, { client_ref: authRef(client) });
    },
  };
}
