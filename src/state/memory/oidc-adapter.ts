/**
 * oidc-provider's models in process memory, with the grant, uid and user code indexes the
 * provider's adapter contract asks for, and the bridge's own index of grants and sessions by
 * account. One `MemoryOidcStorage` holds every model; each model gets a thin adapter over it.
 */
import { AlreadyConsumed } from '../errors.ts';
import { ACCOUNT_INDEXED, consumedStamp, GRANTABLE } from '../oidc-models.ts';
import type { AccountRecords, OidcAdapter } from '../types.ts';
import { TtlMap } from './ttl-map.ts';

type Payload = Record<string, unknown>;

export class MemoryOidcStorage {
  readonly records: TtlMap<Payload>;
  readonly #grants: TtlMap<Set<string>>;
  readonly #lookups: TtlMap<string>;
  /** accountId → `<model>:<id>` of its grants and sessions. */
  readonly #accounts: TtlMap<Set<string>>;

  constructor(now: () => number = Date.now) {
    this.records = new TtlMap(now);
    this.#grants = new TtlMap(now);
    this.#lookups = new TtlMap(now);
    this.#accounts = new TtlMap(now);
  }

  /** The grants and sessions saved for an account. */
  recordsOf(accountId: string): AccountRecords {
    const records: AccountRecords = { grantIds: [], sessionIds: [] };
    for (const member of this.#accounts.get(accountId) ?? []) {
      const [model, id] = splitMember(member);
      if (model === 'Grant') records.grantIds.push(id);
      if (model === 'Session') records.sessionIds.push(id);
    }
    return records;
  }

  forgetRecordsOf(accountId: string): void {
    this.#accounts.delete(accountId);
  }

  /** Adds `member` to a set that lives as long as its longest-lived member. */
  #index(sets: TtlMap<Set<string>>, name: string, member: string, ttl: number): void {
    const members = sets.get(name) ?? new Set<string>();
    members.add(member);
    const kept = members.size > 1 ? sets.remainingMs(name) : 0;
    sets.set(name, members, Math.max(ttl, kept));
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

        const { grantId, userCode, uid, accountId } = payload;
        // An index lives as long as its longest-lived member: a short access token saved
        // after a refresh token must not make the refresh token unrevocable.
        if (GRANTABLE.has(model) && typeof grantId === 'string') {
          this.#index(this.#grants, grantId, key(id), ttl);
        }
        if (ACCOUNT_INDEXED.has(model) && typeof accountId === 'string') {
          this.#index(this.#accounts, accountId, key(id), ttl);
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

/** `<model>:<id>` → [model, id]; ids may contain colons, model names do not. */
function splitMember(member: string): [string, string] {
  const colon = member.indexOf(':');
  return [member.slice(0, colon), member.slice(colon + 1)];
}
