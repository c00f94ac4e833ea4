/**
 * The NoPass authentications behind each OIDC session, and the consent each user gave each
 * client, in Redis. Each operation touches one key, so it works on Redis Cluster too.
 *
 * A session's authIds are a set: added with SADD (the key's lifetime renewed), handed out and
 * forgotten in one MULTI, so of two instances ending the same session only one closes each
 * authentication. A user's consents are one hash, field by client id, which is also the index
 * the account page lists them from (HGETALL, with the hash's PTTL in the same MULTI): deleting
 * the user forgets them all with one DEL, withdrawing one is one HDEL (Redis drops the hash
 * with its last field), and adding to one merges the scopes inside Redis (a script), so neither
 * a second consent nor a withdrawal given at the same moment is lost.
 */
import type { RedisClient } from './connection.ts';
import { guarded } from './connection.ts';
import type { ConsentRecord } from '../types.ts';
import type { RedisKeys } from './keys.ts';
import { addConsentScopes } from './scripts.ts';

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
      await addConsentScopes(this.#client, this.#keys.consent(userId), clientId, scopes, ttlMs);
    });
  }

  listConsents(userId: string): Promise<ConsentRecord[]> {
    return guarded('listConsents', async () => {
      const key = this.#keys.consent(userId);
      const replies = await this.#client.multi().hgetall(key).pttl(key).exec();
      const failed = replies?.find(([error]) => error);
      if (!replies || failed) throw failed?.[0] ?? new Error('transaction aborted');
      const byClient = (replies[0]?.[1] ?? {}) as Record<string, string>;
      const remainingMs = Number(replies[1]?.[1]);
      // PTTL is -2 once the hash is gone (nothing listed then) and -1 never: it always expires.
      const expiresAt = Date.now() + Math.max(0, remainingMs);
      return Object.keys(byClient)
        .sort()
        .map((clientId) => ({
          clientId,
          scopes: scopesOf(byClient[clientId] ?? null),
          expiresAt,
        }));
    });
  }

  withdrawConsent(userId: string, clientId: string): Promise<boolean> {
    return guarded('withdrawConsent', async () => {
      return (await this.#client.hdel(this.#keys.consent(userId), clientId)) === 1;
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
