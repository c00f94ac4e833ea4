/**
 * Deleting a user: the one path every deletion takes, whether NoPass asked for it (the
 * DeleteUser callback, which NoPass sends before answering the portal's DeleteInitialPortal,
 * or on its own), the operator did (`nopass-bridge users delete`) or the person did (the account
 * page). Safe to run any number of times and in any order with those calls: each run removes
 * whatever is still there.
 *
 *   1. find what oidc-provider saved for the account: the grants and sessions indexed under it
 *      (state/oidc-models.ts), plus every grant a session names (oidc/account-grants.ts);
 *   2. run the `beforeRevoke` hooks with those ids, while the records still exist; this is
 *      where notifying relying parties belongs (back-channel logout needs each session's
 *      `sid` and clients), and a failing hook is logged without stopping the deletion;
 *   3. forget the user, so no token still in flight can be turned into claims, and the
 *      consents they gave, so a user registering the same id later starts afresh;
 *   4. revoke each grant (its codes, access and refresh tokens, then the grant itself) and
 *      destroy each session that belongs to the account, so its browser must sign in again;
 *   5. forget the index.
 */
import { authRef, type Logger } from '../log.ts';
import { findAccountGrants } from '../oidc/account-grants.ts';
import type { Store } from '../state/types.ts';

/** What belonged to a deleted account, handed to the hooks before it is revoked. */
export interface DeletedAccount {
  userId: string;
  grantIds: string[];
  sessionIds: string[];
  /**
   * Who asked: NoPass (DeleteUser), the operator (the command line) or the person themselves
   * (the account page).
   */
  origin: DeletionOrigin;
}

export type DeletionOrigin = 'nopass' | 'operator' | 'account';

/** A step run before an account's grants and sessions are revoked. */
export type DeletionHook = (account: DeletedAccount) => Promise<void>;

/** What one deletion removed. */
export interface DeletionReport {
  /** Whether the directory had the user (false on a repeated deletion). */
  existed: boolean;
  grants: number;
  sessions: number;
}

export interface UserDeletion {
  deleteUser(userId: string, origin: DeletionOrigin): Promise<DeletionReport>;
}

export interface UserDeletionDeps {
  store: Store;
  log: Logger;
  /** Run in order before revoking; see the module comment. */
  beforeRevoke?: readonly DeletionHook[];
}

export function createUserDeletion(deps: UserDeletionDeps): UserDeletion {
  const { store, log } = deps;
  const grants = store.oidcAdapter('Grant');
  const sessions = store.oidcAdapter('Session');

  return {
    async deleteUser(userId, origin) {
      const { grantIds, sessionIds } = await findAccountGrants(store, userId);

      const account: DeletedAccount = { userId, grantIds, sessionIds, origin };
      for (const hook of deps.beforeRevoke ?? []) {
        try {
          await hook(account);
        } catch (error) {
          log.warn({ err: error, origin }, 'user deletion hook failed');
        }
      }

      const existed = await store.deleteUser(userId);
      await store.forgetConsents(userId);
      for (const grantId of grantIds) {
        const grant = await grants.find(grantId);
        if (grant && grant.accountId !== userId) continue;
        await grants.revokeByGrantId(grantId);
        await grants.destroy(grantId);
      }
      for (const sessionId of sessionIds) await sessions.destroy(sessionId);
      await store.forgetAccountRecords(userId);

      const report = { existed, grants: grantIds.length, sessions: sessionIds.length };
      log.info({ origin, user_ref: authRef(userId), ...report }, 'user deleted');
      return report;
    },
  };
}
