/**
 * The account page as a relying party of the bridge. The bridge registers one client for it in
 * every mode, besides the clients file (whose entries may not take its id): first-party, so no
 * consent page, and public with PKCE, so every instance accepts its codes without sharing a
 * secret. The page then signs people in like any application, with openid-client against the
 * bridge's own issuer URL.
 */
import type { ClientMetadata } from 'oidc-provider';
import * as oidc from 'openid-client';
import { ACCOUNT_CLIENT_ID } from '../oidc/clients.ts';
import { ACCOUNT_PATH } from './session.ts';

export { ACCOUNT_CLIENT_ID };

/** Where the bridge sends the browser back with the code. */
export function accountRedirectUri(issuer: string): string {
  return `${issuer}${ACCOUNT_PATH}/callback`;
}

/** Where the browser lands after signing out from the account page, whatever it answered. */
export function accountSignedOutUri(issuer: string): string {
  return `${issuer}${ACCOUNT_PATH}/signed-out`;
}

/** The account page's client metadata, registered beside the clients file. */
export function accountClient(issuer: string): ClientMetadata {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Account page',
    redirect_uris: [accountRedirectUri(issuer)],
    post_logout_redirect_uris: [accountSignedOutUri(issuer)],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    // The bridge's own page: it skips the consent page.
    first_party: true,
  };
}

/**
 * openid-client's configuration for the account client, discovered on first use: discovery
 * runs against the bridge itself, so it can only happen once the bridge listens. A failed
 * discovery is tried again on the next use.
 */
export function accountRelyingParty(issuer: string): () => Promise<oidc.Configuration> {
  let config: Promise<oidc.Configuration> | undefined;
  return () => {
    config ??= oidc
      .discovery(new URL(issuer), ACCOUNT_CLIENT_ID, undefined, oidc.None(), {
        execute: issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
      })
      .catch((error: unknown) => {
        config = undefined;
        throw error;
      });
    return config;
  };
}
