/**
 * oidc-provider's models in Redis. A record is a hash: `payload` (the JSON the provider saved)
 * and `consumed` (epoch seconds, once redeemed), so consuming is one atomic HSETNX that only
 * the first of two racing instances wins; the payload is never decoded inside Redis. Lifetimes
 * come from the provider's `expiresIn`; the uid and user code lookups and the grant and account
 * indexes expire with (or, for the indexes, after) the records they point at.
 */
import { AlreadyConsumed } from '../errors.ts';
import { ACCOUNT_INDEXED, consumedStamp, GRANTABLE } from '../oidc-models.ts';
import type { OidcAdapter } from '../types.ts';
import { guarded, type RedisClient } from './connection.ts';
import type { RedisKeys } from './keys.ts';
import { addToGrant, addToIndex, consumeRecord } from './scripts.ts';

type Payload = Record<string, unknown>;

function isAlreadyConsumed(error: unknown): boolean {
  return error instanceof AlreadyConsumed;
}

/** One oidc-provider model's records in Redis. */
export class RedisOidcAdapter implements OidcAdapter {
  readonly #client: RedisClient;
  readonly #keys: RedisKeys;
  readonly #model: string;

  constructor(client: RedisClient, keys: RedisKeys, model: string) {
    this.#client = client;
    this.#keys = keys;
    this.#model = model;
  }

  upsert(id: string, payload: Payload, expiresInRaw: number): Promise<void> {
    // Whole seconds, as EXPIRE takes them; 0 (or less) means the record does not expire.
    const expiresIn = expiresInRaw > 0 ? Math.ceil(expiresInRaw) : 0;
    return guarded(`${this.#model}.upsert`, async () => {
      const key = this.#keys.oidc(this.#model, id);
      const fields: Record<string, string> = { payload: JSON.stringify(payload) };
      if (payload.consumed !== undefined) fields.consumed = JSON.stringify(payload.consumed);

      // Replaced whole, as the memory adapter does: an earlier `consumed` does not linger.
      const write = this.#client.multi().del(key).hset(key, fields);
      if (expiresIn > 0) write.expire(key, expiresIn);
      const results = await write.exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('transaction aborted');

      const { grantId, userCode, uid, accountId } = payload;
      const pending: Promise<unknown>[] = [];
      if (GRANTABLE.has(this.#model) && typeof grantId === 'string') {
        pending.push(addToGrant(this.#client, this.#keys.grant(grantId), key, expiresIn));
      }
      if (ACCOUNT_INDEXED.has(this.#model) && typeof accountId === 'string') {
        const member = `${this.#model}:${id}`;
        pending.push(addToIndex(this.#client, this.#keys.account(accountId), member, expiresIn));
      }
      if (typeof userCode === 'string') {
        pending.push(
          this.#lookup(this.#keys.oidcLookup(this.#model, 'usercode', userCode), id, expiresIn),
        );
      }
      if (typeof uid === 'string') {
        pending.push(this.#lookup(this.#keys.oidcLookup(this.#model, 'uid', uid), id, expiresIn));
      }
      await Promise.all(pending);
    });
  }

  find(id: string): Promise<Payload | undefined> {
    return guarded(`${this.#model}.find`, () => this.#read(id));
  }

  findByUid(uid: string): Promise<Payload | undefined> {
    return guarded(`${this.#model}.findByUid`, async () => {
      const id = await this.#client.get(this.#keys.oidcLookup(this.#model, 'uid', uid));
      return id === null ? undefined : this.#read(id);
    });
  }

  findByUserCode(userCode: string): Promise<Payload | undefined> {
    return guarded(`${this.#model}.findByUserCode`, async () => {
      const key = this.#keys.oidcLookup(this.#model, 'usercode', userCode);
      const id = await this.#client.get(key);
      return id === null ? undefined : this.#read(id);
    });
  }

  consume(id: string): Promise<void> {
    return guarded(
      `${this.#model}.consume`,
      async () => {
        const key = this.#keys.oidc(this.#model, id);
        const outcome = await consumeRecord(this.#client, key, consumedStamp());
        if (outcome === 'already') throw new AlreadyConsumed(this.#model);
      },
      isAlreadyConsumed,
    );
  }

  destroy(id: string): Promise<void> {
    return guarded(`${this.#model}.destroy`, async () => {
      await this.#client.del(this.#keys.oidc(this.#model, id));
    });
  }

  revokeByGrantId(grantId: string): Promise<void> {
    return guarded(`${this.#model}.revokeByGrantId`, async () => {
      const grantKey = this.#keys.grant(grantId);
      const members = await this.#client.smembers(grantKey);
      // One DEL per key: on a Cluster the members live in different slots.
      await Promise.all(members.map((member) => this.#client.del(member)));
      await this.#client.del(grantKey);
    });
  }

  async #read(id: string): Promise<Payload | undefined> {
    const [payload, consumed] = await this.#client.hmget(
      this.#keys.oidc(this.#model, id),
      'payload',
      'consumed',
    );
    if (payload === null || payload === undefined) return undefined;
    const record = JSON.parse(payload) as Payload;
    if (consumed !== null && consumed !== undefined) record.consumed = JSON.parse(consumed);
    return record;
  }

  async #lookup(key: string, id: string, expiresIn: number): Promise<void> {
    if (expiresIn > 0) await this.#client.set(key, id, 'EX', expiresIn);
    else await this.#client.set(key, id);
  }
}
