/**
 * Facts about oidc-provider's models that every adapter needs, whatever it stores them in.
 */

/** Models whose records carry a grantId and must go when the grant is revoked. */
export const GRANTABLE: ReadonlySet<string> = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

/**
 * Models whose records name the account they belong to (`accountId`) and are indexed by it, so
 * deleting a user can find and revoke every grant and session the provider saved for them.
 */
export const ACCOUNT_INDEXED: ReadonlySet<string> = new Set(['Grant', 'Session']);

/** The `consumed` stamp oidc-provider expects: epoch seconds. */
export function consumedStamp(now: number = Date.now()): number {
  return Math.floor(now / 1000);
}
