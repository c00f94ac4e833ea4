/**
 * "Applications you allowed" on the account page: each third-party client the person allowed
 * on the consent page (interaction/consent.ts), by its name and the scopes in plain words, and
 * withdrawing one. First-party clients are never asked, so they are never listed; a consent
 * left from when a client was a third party is not listed either, as nothing reads it while the
 * client stays first-party.
 *
 * Withdrawing forgets the consent first, so no new authorization request can be granted from
 * it, then revokes the client's grants for the person (oidc/account-grants.ts): its access and
 * refresh tokens stop working at once, and its next sign-in shows the consent page again. The
 * person's bridge session and other applications are left alone.
 */
import type { Provider } from 'oidc-provider';
import { describeScopes, inPageOrder, type DescribedScope } from '../interaction/consent.ts';
import { revokeClientGrants } from '../oidc/account-grants.ts';
import { isFirstParty } from '../oidc/grants.ts';
import type { Store } from '../state/types.ts';

export interface ConsentListDeps {
  store: Store;
  /** Where clients are looked up: their current name and whether they are first-party. */
  provider: Provider;
}

/** One application as the account page lists it. */
export interface AllowedApplication {
  clientId: string;
  /** `client_name` from the clients file, or the client id when it has none or is gone. */
  name: string;
  scopes: DescribedScope[];
  /** Epoch ms at which the consent is forgotten unless given again. */
  expiresAt: number;
}

/** What withdrawing a consent did. */
export type Withdrawal = { withdrawn: true; grants: number } | { withdrawn: false };

/**
 * The applications `userId` allowed, by name. A client removed from the clients file since is
 * still listed, by its id, so its consent can be withdrawn too.
 */
export async function allowedApplications(
  deps: ConsentListDeps,
  userId: string,
): Promise<AllowedApplication[]> {
  const listed: AllowedApplication[] = [];
  for (const consent of await deps.store.listConsents(userId)) {
    const client = await deps.provider.Client.find(consent.clientId);
    if (isFirstParty(client)) continue;
    listed.push({
      clientId: consent.clientId,
      name: client?.clientName ?? consent.clientId,
      scopes: describeScopes(inPageOrder(consent.scopes)),
      expiresAt: consent.expiresAt,
    });
  }
  return listed.sort(
    (one, two) => one.name.localeCompare(two.name) || one.clientId.localeCompare(two.clientId),
  );
}

/**
 * Withdraws the consent `userId` gave `clientId` and revokes that client's grants for them.
 * `withdrawn: false`, changing nothing, when the account page would not list that client.
 */
export async function withdrawApplication(
  deps: ConsentListDeps,
  userId: string,
  clientId: string,
): Promise<Withdrawal> {
  const listed = await allowedApplications(deps, userId);
  if (!listed.some((application) => application.clientId === clientId)) {
    return { withdrawn: false };
  }
  // Whether this call or one racing it forgot the consent, the grants go all the same.
  await deps.store.withdrawConsent(userId, clientId);
  const revoked = await revokeClientGrants(deps.store, userId, clientId);
  return { withdrawn: true, grants: revoked.length };
}
