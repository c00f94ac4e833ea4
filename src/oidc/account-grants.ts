/**
 * Finding and revoking what oidc-provider issued to one person. A grant holds an account's
 * authorization at one client; its codes, access tokens and refresh tokens are indexed under it,
 * so revoking the grant (`revokeByGrantId`, then destroying the grant itself) ends every token
 * issued under it. The grants of an account are found two ways, because either may miss one:
 * the account index the adapters keep on upsert (state/oidc-models.ts), and the grant each of
 * the account's sessions names per client it signed in to.
 *
 * Deleting a user (users/deletion.ts) revokes every grant found; withdrawing a consent on the
 * account page revokes only those at one client.
 */
import type { Store } from '../state/types.ts';

/** An account's sessions, and every grant found for it. */
export interface AccountGrants {
  /** Grant ids from the account index and from the account's sessions. */
  grantIds: string[];
  /** The account's sessions: indexed under it and still naming it. */
  sessionIds: string[];
}

/** The grant each client a stored session signed in to is authorized under, by client id. */
function grantsOfSession(session: Record<string, unknown>): Map<string, string> {
  const grants = new Map<string, string>();
  const authorizations = session.authorizations;
  if (typeof authorizations !== 'object' || authorizations === null) return grants;
  for (const [clientId, entry] of Object.entries(authorizations as Record<string, unknown>)) {
    const grantId = (entry as { grantId?: unknown } | null)?.grantId;
    if (typeof grantId === 'string') grants.set(clientId, grantId);
  }
  return grants;
}

/** Walks the account's sessions, handing each one that still belongs to it to `visit`. */
async function eachSession(
  store: Store,
  userId: string,
  sessionIds: readonly string[],
  visit: (sessionId: string, session: Record<string, unknown>) => void,
): Promise<void> {
  const sessions = store.oidcAdapter('Session');
  for (const sessionId of sessionIds) {
    const session = await sessions.find(sessionId);
    // A session id is indexed under every account that ever used it; only this one's count.
    if (session?.accountId === userId) visit(sessionId, session);
  }
}

/** Every grant and session oidc-provider saved for `userId`; see the module comment. */
export async function findAccountGrants(store: Store, userId: string): Promise<AccountGrants> {
  const indexed = await store.accountRecords(userId);
  const grantIds = new Set(indexed.grantIds);
  const sessionIds: string[] = [];
  await eachSession(store, userId, indexed.sessionIds, (sessionId, session) => {
    sessionIds.push(sessionId);
    for (const grantId of grantsOfSession(session).values()) grantIds.add(grantId);
  });
  return { grantIds: [...grantIds], sessionIds };
}

/**
 * Revokes the grants `userId` holds at `clientId`, with every code, access token and refresh
 * token issued under them, and leaves their grants at other clients alone. A grant whose
 * record is gone is revoked when one of the account's sessions names it for `clientId`, so
 * tokens left under it go too. Returns the ids revoked.
 *
 * The sessions are left as they are: the person stays signed in at the bridge, and the next
 * authorization request of `clientId` finds no grant and asks for consent again.
 */
export async function revokeClientGrants(
  store: Store,
  userId: string,
  clientId: string,
): Promise<string[]> {
  const grants = store.oidcAdapter('Grant');
  const indexed = await store.accountRecords(userId);
  const named = new Set<string>();
  await eachSession(store, userId, indexed.sessionIds, (_sessionId, session) => {
    const grantId = grantsOfSession(session).get(clientId);
    if (grantId !== undefined) named.add(grantId);
  });

  const revoked: string[] = [];
  for (const grantId of new Set([...indexed.grantIds, ...named])) {
    const grant = await grants.find(grantId);
    const atClient = grant
      ? grant.accountId === userId && grant.clientId === clientId
      : named.has(grantId);
    if (!atClient) continue;
    await grants.revokeByGrantId(grantId);
    await grants.destroy(grantId);
    revoked.push(grantId);
  }
  return revoked;
}
