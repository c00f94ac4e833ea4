/**
 * Accounts as oidc-provider sees them. The subject is the NoPass user id the bridge recorded
 * when NoPass approved the sign-in (or confirmed the registration); nothing from the browser
 * ever becomes a subject. The other claims come from the user directory, and oidc-provider
 * hands a relying party only those of the scopes it was granted (the `claims` setting in
 * provider.ts): `profile`, `email`, `phone`.
 */
import type { Account, AccountClaims, FindAccount } from 'oidc-provider';
import type { Store, UserRecord } from '../state/types.ts';

/**
 * Every claim a user has. A claim whose value is unknown is left out rather than sent empty,
 * and `*_verified` goes with its value: true only when NoPass vouched for it (state/types.ts).
 */
export function userClaims(user: UserRecord): AccountClaims {
  const { profile } = user;
  // The user id is the login name the person typed and NoPass confirmed.
  const claims: AccountClaims = { sub: user.userId, preferred_username: user.userId };
  const name = [profile.givenName, profile.surName].filter(Boolean).join(' ');
  if (name !== '') claims.name = name;
  if (profile.givenName) claims.given_name = profile.givenName;
  if (profile.surName) claims.family_name = profile.surName;
  if (profile.locale) claims.locale = profile.locale;
  if (profile.profileImageUrl) claims.picture = profile.profileImageUrl;
  if (profile.email) {
    claims.email = profile.email;
    claims.email_verified = user.emailVerified;
  }
  if (profile.phoneNumber) {
    claims.phone_number = profile.phoneNumber;
    claims.phone_number_verified = user.phoneNumberVerified;
  }
  return claims;
}

export function createFindAccount(store: Store): FindAccount {
  return async (_ctx, sub): Promise<Account | undefined> => {
    // A deleted user has no account: tokens still in flight yield no claims.
    const user = await store.getUser(sub);
    if (!user) return undefined;
    return { accountId: user.userId, claims: () => userClaims(user) };
  };
}
