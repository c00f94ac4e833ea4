/**
 * The store's adapters as oidc-provider sees them. The one translation needed: a store reports
 * a second redemption of the same record as `AlreadyConsumed`, and the provider must answer it
 * as `invalid_grant`, so of two token requests racing with one code (on one instance or two),
 * exactly one gets tokens and the other a clean 400. Store outages pass through as they are:
 * `StoreUnavailable` already has the shape the provider answers with a 503.
 */
import { errors } from 'oidc-provider';
import { AlreadyConsumed } from '../state/errors.ts';
import type { OidcAdapter, Store } from '../state/types.ts';
import type { ClientRegistry } from './client-registry.ts';

/**
 * oidc-provider's `adapter` setting: the store's adapter for each model, translated; clients
 * come from the clients file through the registry instead.
 */
export function providerAdapter(
  store: Store,
  clients: ClientRegistry,
): (model: string) => OidcAdapter {
  return (model) => {
    if (model === 'Client') return clients.adapter();
    const adapter = store.oidcAdapter(model);
    return {
      upsert: (id, payload, expiresIn) => adapter.upsert(id, payload, expiresIn),
      find: (id) => adapter.find(id),
      findByUid: (uid) => adapter.findByUid(uid),
      findByUserCode: (userCode) => adapter.findByUserCode(userCode),
      destroy: (id) => adapter.destroy(id),
      revokeByGrantId: (grantId) => adapter.revokeByGrantId(grantId),
      async consume(id) {
        try {
          await adapter.consume(id);
        } catch (error) {
          if (error instanceof AlreadyConsumed) {
            throw new errors.InvalidGrant({ detail: `${model} already used`, cause: error });
          }
          throw error;
        }
      },
    };
  };
}
