/**
 * oidc-provider's models in process memory, with the grant, uid and user code indexes the
 * provider's adapter contract asks for. One `MemoryOidcStorage` holds every model; each model
 * gets a thin adapter over it.
 */
import { AlreadyConsumed } from '../errors.ts';
import { consumedStamp, GRANTABLE } from '../oidc-models.ts';
import type { OidcAdapter } from '../types.ts';
import { TtlMap } from './ttl-map.ts';

type Payload = Record<string, unknown>;

export class MemoryOidcStorage {
  readonly records: TtlMap<Payload>;
  readonly #grants: TtlMap<Set<string>>;
  readonly #lookups: TtlMap<string>;

  constructor(now: () => number = Date.now) {
    this.records = new TtlMap(now);
    this.#grants = new TtlMap(now);
    this.#lookups = new TtlMap(now);
  }

  adapter(model: string): OidcAdapter {
    const key = (id: string): string => `${model}:${id}`;
    const lookup = (kind: string, value: string): string => `${model}:${kind}:${value}`;
    // A copy, as a store outside the process would hand out: the caller cannot change the record.
    const copyOf = (stored: string): Payload | undefined => {
      const record = this.records.get(stored);
      return record && { ...record };
    };

    return {
      upsert: (id, payload, expiresIn) => {
        const ttl = expiresIn > 0 ? expiresIn * 1000 : Infinity;
        this.records.set(key(id), { ...payload }, ttl);

        const { grantId, userCode, uid } = payload;
        if (GRANTABLE.has(model) && typeof grantId === 'string') {
          const members = this.#grants.get(grantId) ?? new Set<string>();
          members.add(key(id));
          // The index lives as long as its longest-lived member: a short access token saved
          // after a refresh token must not make the refresh token unrevocable.
          const kept = members.size > 1 ? this.#grants.remainingMs(grantId) : 0;
          this.#grants.set(grantId, members, Math.max(ttl, kept));
        }
        if (typeof userCode === 'string') this.#lookups.set(lookup('userCode', userCode), id, ttl);
        if (typeof uid === 'string') this.#lookups.set(lookup('uid', uid), id, ttl);
        return Promise.resolve();
      },

      find: (id) => Promise.resolve(copyOf(key(id))),

      findByUid: (uid) => {
        const id = this.#lookups.get(lookup('uid', uid));
        return Promise.resolve(id === undefined ? undefined : copyOf(key(id)));
      },

      findByUserCode: (userCode) => {
        const id = this.#lookups.get(lookup('userCode', userCode));
        return Promise.resolve(id === undefined ? undefined : copyOf(key(id)));
      },

      consume: (id) => {
        const record = this.records.get(key(id));
        if (!record) return Promise.resolve();
        if (record.consumed !== undefined) return Promise.reject(new AlreadyConsumed(model));
        record.consumed = consumedStamp();
        return Promise.resolve();
      },

      destroy: (id) => {
        this.records.delete(key(id));
        return Promise.resolve();
      },

      revokeByGrantId: (grantId) => {
        for (const member of this.#grants.get(grantId) ?? []) this.records.delete(member);
        this.#grants.delete(grantId);
        return Promise.resolve();
      },
    };
  }
}
