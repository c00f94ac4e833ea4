/**
 * Failures a store reports on purpose, independent of where the state lives.
 */

/**
 * `OidcAdapter.consume` found the record already consumed: another request (on this instance or
 * another) redeemed the same authorization code or refresh token first. oidc/adapter.ts turns
 * it into the provider's `invalid_grant`, so exactly one of two racing redemptions gets tokens.
 */
export class AlreadyConsumed extends Error {
  readonly model: string;

  constructor(model: string) {
    super(`${model} already consumed`);
    this.name = 'AlreadyConsumed';
    this.model = model;
  }
}
