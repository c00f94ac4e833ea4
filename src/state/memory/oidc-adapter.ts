/**
 * oidc-provider's models in process memory, with the grant, uid and user code indexes the
 * provider's adapter contract asks for. One `MemoryOidcStorage` holds every model; each model
 * gets a thin adapter over it.
 */
import type { OidcAdapter } from '../types.ts';
import { TtlMap } from './ttl-map.ts';

type Payload = Record<string, unknown>;

/** Models whose records carry a grantId and must go when the grant is revoked. */
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

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

    return {
      upsert: (id, payload, expiresIn) => {
        const ttl = expiresIn > 0 ? expiresIn * 1000 : Infinity;
        this.records.set(key(id), { ...payload }, ttl);

        const { grantId, userCode, uid } = payload;
        if (GRANTABLE.has(model) && typeof grantId === 'string') {
          const members = this.#grants.get(grantId) ?? new Set<string>();
          members.add(key(id));
          this.#grants.set(grantId, members, ttl);
        }
        if (typeof userCode === 'string') this.#lookups.set(lookup('userCode', userCode), id, ttl);
        if (typeof uid === 'string') this.#lookups.set(lookup('uid', uid), id, ttl);
        return Promise.resolve();
      },

      find: (id) => Promise.resolve(this.records.get(key(id))),

      findByUid: (uid) => {
        const id = this.#lookups.get(lookup('uid', uid));
        return Promise.resolve(id === undefined ? undefined : this.records.get(key(id)));
      },

      findByUserCode: (userCode) => {
        const id = this.#lookups.get(lookup('userCode', userCode));
        return Promise.resolve(id === undefined ? undefined : this.records.get(key(id)));
      },

      consume: (id) => {
        const record = this.records.get(key(id));
        if (record) record.consumed = Math.floor(Date.now() / 1000);
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
