/**
 * The NoPass authentications behind each OIDC session, and the consent each user gave each
 * client, in Redis. Each operation touches one key, so it works on Redis Cluster too.
 *
 * A session's authIds are a set: added with SADD (the key's lifetime renewed), handed out and
 * forgotten in one MULTI, so of two instances ending the same session only one closes each
 * authentication. A user's consents are one hash, so deleting the user forgets them all with
 * one DEL. Adding to a consent reads, merges and writes: two consents given at the same moment
 * by the same user to the same client may keep only one of the two, which at worst shows the
 * consent page once more.
 */
import type { RedisClient } from './connection.ts';
import { guarded } from './connection.ts';
import type { RedisKeys } from './keys.ts';

export class RedisSessionRecords {
  readonly #client: RedisClient;
  readonly #keys: RedisKeys;

  constructor(client: RedisClient, keys: RedisKeys) {
    this.#client = client;
    this.#keys = keys;
  }

  addSessionAuth(sessionUid: string, authId: string, ttlMs: number): Promise<void> {
    return guarded('addSessionAuth', async () => {
      const key = this.#keys.sessionAuths(sessionUid);
      await this.#client
        .multi()
        .sadd(key, authId)
        .pexpire(key, Math.max(1, Math.round(ttlMs)))
        .exec();
    });
  }

  takeSessionAuths(sessionUid: string): Promise<string[]> {
    return guarded('takeSessionAuths', async () => {
      const key = this.#keys.sessionAuths(sessionUid);
      const replies = await this.#client.multi().smembers(key).del(key).exec();
      const [error, members] = replies?.[0] ?? [null, []];
      if (error) throw error;
      return (members as string[]).sort();
    });
  }

  getConsent(userId: string, clientId: string): Promise<string[]> {
    return guarded('getConsent', async () => {
      const text = await this.#client.hget(this.#keys.consent(userId), clientId);
      return scopesOf(text);
    });
  }

  addConsent(userId: string, clientId: string, scopes: string[], ttlMs: number): Promise<void> {
    return guarded('addConsent', async () => {
      const key = this.#keys.consent(userId);
      const known = scopesOf(await this.#client.hget(key, clientId));
      const merged = [...new Set([...known, ...scopes])].sort().join(' ');
      await this.#client
        .multi()
        .hset(key, clientId, merged)
        .pexpire(key, Math.max(1, Math.round(ttlMs)))
        .exec();
    });
  }

  forgetConsents(userId: string): Promise<void> {
    return guarded('forgetConsents', async () => {
      await this.#client.del(this.#keys.consent(userId));
    });
  }
}

function scopesOf(text: string | null): string[] {
  return text === null ? [] : text.split(' ').filter((scope) => scope !== '');
}
