/**
 * Removing a person's NoPass sign-in from the account page: NoPass deletes their account for
 * this portal (DeleteInitialPortal), then the bridge deletes the user and revokes every grant,
 * token and session it issued them (users/deletion.ts, which also notifies relying parties).
 *
 * NoPass sends its DeleteUser callback before it answers, while the bridge is still waiting, or
 * instead of answering, and the deletion may run any number of times. So what decides the
 * outcome is where the user stands:
 *
 * - already gone from the directory (a DeleteUser came first): removed, NoPass is not asked;
 * - NoPass answered: removed;
 * - NoPass refused, failed or did not answer, and the user is still here: nothing is deleted,
 *   the failure goes back to the page, and the person can try again;
 * - NoPass failed, but its DeleteUser arrived meanwhile and the user is gone: removed.
 */
import { BridgeError } from '../http/errors.ts';
import { authRef, type Logger } from '../log.ts';
import type { NoPassClient } from '../nopass/types.ts';
import type { Store } from '../state/types.ts';
import type { UserDeletion } from '../users/deletion.ts';

export interface RemovalDeps {
  store: Store;
  nopass: NoPassClient;
  deletion: UserDeletion;
}

export type RemovalResult =
  { removed: true; askedNoPass: boolean } | { removed: false; error: BridgeError };

/** Removes `userId`'s NoPass sign-in, as the module comment describes. */
export async function removeNoPassSignIn(
  deps: RemovalDeps,
  userId: string,
  log: Logger,
): Promise<RemovalResult> {
  const lines = log.child({ user_ref: authRef(userId) });
  if (!(await deps.store.getUser(userId))) {
    // Leftovers, if any, go too: the deletion removes whatever is still there.
    await deps.deletion.deleteUser(userId, 'account');
    lines.info('nopass sign-in already removed');
    return { removed: true, askedNoPass: false };
  }

  try {
    await deps.nopass.deleteInitialPortal(userId, { log: lines });
  } catch (error) {
    if (!(error instanceof BridgeError)) throw error;
    if (await deps.store.getUser(userId)) {
      lines.warn({ error_code: error.code }, 'nopass sign-in not removed; the user is kept');
      return { removed: false, error };
    }
    lines.info({ error_code: error.code }, 'nopass deleted the user without answering');
  }

  await deps.deletion.deleteUser(userId, 'account');
  lines.info('nopass sign-in removed from the account page');
  return { removed: true, askedNoPass: true };
}
