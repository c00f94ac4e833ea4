/**
 * The Lua scripts that make the store's read-check-write steps atomic across instances. Each
 * touches a single key, so they run on Redis Cluster too. A script is sent by its SHA1 and
 * again in full when Redis does not know it (after a restart or a failover).
 *
 * The decisions themselves (may this picture replace that one, is this verdict the first) stay
 * in TypeScript, shared with the memory store (state/login-transitions.ts): the store reads a
 * record, decides, and writes the result with `compareAndSet`, which only succeeds if nobody
 * changed the record in between; otherwise it reads again and decides again.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './connection.ts';

class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error as Error).message?.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * KEYS[1] the record; ARGV[1] the value read, ARGV[2] the value to write, ARGV[3] `absent` when
 * the record must not exist yet, ARGV[4] a new time to live in ms or ''. Without one, a new
 * record does not expire and a replaced one keeps its time to live. Returns 1 when written.
 */
const COMPARE_AND_SET = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if ARGV[3] == 'absent' then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
elseif ARGV[3] == 'absent' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
end
return 1
`);

/**
 * KEYS[1] an oidc-provider record (a hash); ARGV[1] the consumed stamp. Returns -1 when there
 * is no record, 0 when it was consumed already, 1 when this call consumed it.
 */
const CONSUME = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1])
`);

/**
 * KEYS[1] a grant's set of record keys; ARGV[1] the member, ARGV[2] its lifetime in seconds (0:
 * none). The set lives as long as its longest-lived member, so a short access token saved after
 * a refresh token never makes the refresh token unrevocable.
 */
const ADD_TO_GRANT = new LuaScript(`
local existed = redis.call('EXISTS', KEYS[1])
local current = redis.call('TTL', KEYS[1])
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl <= 0 then
  redis.call('PERSIST', KEYS[1])
elseif existed == 0 or (current >= 0 and current < ttl) then
  redis.call('EXPIRE', KEYS[1], ttl)
end
return 1
`);

/**
 * KEYS[1] a user's consents (a hash: client id → space-separated scopes); ARGV[1] the client
 * id, ARGV[2] the hash's new lifetime in ms, ARGV[3…] the scopes to add. The scopes already
 * there and the new ones are merged, sorted and written back in one step, so neither a second
 * consent nor a withdrawal happening meanwhile is lost. Returns 1.
 */
const ADD_CONSENT = new LuaScript(`
local seen = {}
local scopes = {}
local function add(scope)
  if scope ~= '' and not seen[scope] then
    seen[scope] = true
    scopes[#scopes + 1] = scope
  end
end
local known = redis.call('HGET', KEYS[1], ARGV[1])
if known then
  for scope in string.gmatch(known, '%S+') do add(scope) end
end
for i = 3, #ARGV do add(ARGV[i]) end
table.sort(scopes)
redis.call('HSET', KEYS[1], ARGV[1], table.concat(scopes, ' '))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/**
 * Writes `next` over `expected` (or, with `expected` undefined, where nothing is yet), with a
 * new lifetime of `ttlMs` when given.
 */
export async function compareAndSet(
  client: RedisClient,
  key: string,
  expected: string | undefined,
  next: string,
  ttlMs?: number,
): Promise<boolean> {
  const mode = expected === undefined ? 'absent' : 'replace';
  const ttl = ttlMs === undefined ? '' : Math.max(1, Math.round(ttlMs));
  return (await COMPARE_AND_SET.run(client, [key], [expected ?? '', next, mode, ttl])) === 1;
}

/** Stamps `consumed` on a record: 'consumed' (this call), 'already' or 'missing'. */
export async function consumeRecord(
  client: RedisClient,
  key: string,
  stamp: number,
): Promise<'consumed' | 'already' | 'missing'> {
  const result = await CONSUME.run(client, [key], [stamp]);
  if (result === 1) return 'consumed';
  return result === 0 ? 'already' : 'missing';
}

/** Adds a member to an index set that lives as long as its longest-lived member. */
export async function addToIndex(
  client: RedisClient,
  indexKey: string,
  member: string,
  ttlSeconds: number,
): Promise<void> {
  await ADD_TO_GRANT.run(client, [indexKey], [member, ttlSeconds]);
}

/** Adds a record key to its grant's index. */
export async function addToGrant(
  client: RedisClient,
  grantKey: string,
  member: string,
  ttlSeconds: number,
): Promise<void> {
  await ADD_TO_GRANT.run(client, [grantKey], [member, ttlSeconds]);
}

/** Adds scopes to what a user allowed one client, renewing all of that user's consents. */
export async function addConsentScopes(
  client: RedisClient,
  consentKey: string,
  clientId: string,
  scopes: string[],
  ttlMs: number,
): Promise<void> {
  const ttl = Math.max(1, Math.round(ttlMs));
  await ADD_CONSENT.run(client, [consentKey], [clientId, ttl, ...scopes]);
}
