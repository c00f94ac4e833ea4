/**
 * Accounts as oidc-provider sees them. The subject is the NoPass user id the bridge recorded
 * when NoPass approved the sign-in; nothing from the browser ever becomes a subject.
 */
import type { Account, FindAccount } from 'oidc-provider';
import type { Store } from '../state/types.ts';

export function createFindAccount(store: Store): FindAccount {
  return async (_ctx, sub): Promise<Account | undefined> => {
    const user = await store.getUser(sub);
    if (!user) return undefined;
    return {
      accountId: user.userId,
      // The user id is the login name the person typed and NoPass confirmed.
      claims: () => ({ sub: user.userId, preferred_username: user.userId }),
    };
  };
}
