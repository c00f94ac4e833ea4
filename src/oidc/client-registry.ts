/**
 * The relying parties the provider knows, replaceable while it runs. oidc-provider looks up a
 * client that is not statically configured through its `Client` adapter; serving that adapter
 * from this registry is what lets an edited clients file take effect without a restart. The
 * provider builds (and validates) a client object once per distinct set of metadata, so a
 * changed entry is picked up on its next use and a removed one is simply not found.
 */
import type { ClientMetadata } from 'oidc-provider';
import type { OidcAdapter } from '../state/types.ts';

export class ClientRegistry {
  #clients = new Map<string, ClientMetadata>();

  constructor(clients: ClientMetadata[]) {
    this.replace(clients);
  }

  /** Swaps the whole set at once, so a request never sees half of an edit. */
  replace(clients: ClientMetadata[]): void {
    this.#clients = new Map(clients.map((client) => [client.client_id, structuredClone(client)]));
  }

  get size(): number {
    return this.#clients.size;
  }

  /** The read-only `Client` adapter: clients are managed in the file, never through the API. */
  adapter(): OidcAdapter {
    const refuse = (): Promise<never> =>
      Promise.reject(new Error('clients are read from the clients file and cannot be changed'));
    return {
      find: (id) => {
        const client = this.#clients.get(id);
        return Promise.resolve(client && (structuredClone(client) as Record<string, unknown>));
      },
      upsert: refuse,
      destroy: refuse,
      consume: refuse,
      revokeByGrantId: refuse,
      findByUid: () => Promise.resolve(undefined),
      findByUserCode: () => Promise.resolve(undefined),
    };
  }
}
