/**
 * The token policy: what lives how long, who gets refresh tokens, what happens when one is used
 * twice, and who may revoke or introspect what. The README's "Tokens" section says the same
 * for operators.
 *
 * - Refresh tokens go to a client allowed the `refresh_token` grant whose grant holds
 *   `offline_access` (see grants.ts for how that scope is granted).
 * - Rotation on every use: each refresh answers with a new refresh token and the one presented
 *   is used up. A refresh token lives REFRESH_TOKEN_S from its issue, so an application that
 *   refreshes at least that often keeps going, until the grant itself expires GRANT_S after the
 *   person last signed in to it; then they sign in again.
 * - Reuse: presenting a refresh token that was already used is taken as a sign that it was
 *   copied. oidc-provider then revokes the whole grant (every access and refresh token issued
 *   under it) and answers `invalid_grant`, so both the thief and the application must sign in
 *   again. Two requests racing with the same token are not reuse: the store lets exactly one of
 *   them use it, and the other gets `invalid_grant` without revoking anything.
 * - Revocation: a client may revoke its own tokens; revoking a refresh token ends its grant.
 *   Any other token is answered as if revoked (RFC 7009) and left alone.
 * - Introspection: confidential clients only. A client learns about its own tokens; a client
 *   marked `"resource_server": true` (an API that receives tokens issued to others) learns about
 *   any. Every other question is answered `{"active": false}`.
 */
import type { Client, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { isResourceServer } from './grants.ts';

export const ACCESS_TOKEN_S = 3600;
export const REFRESH_TOKEN_S = 14 * 24 * 3600;
export const GRANT_S = 30 * 24 * 3600;

/** oidc-provider's `ttl` entries for tokens and grants, in seconds. */
export const TOKEN_TTL = {
  AccessToken: ACCESS_TOKEN_S,
  AuthorizationCode: 60,
  IdToken: 3600,
  RefreshToken: REFRESH_TOKEN_S,
  Grant: GRANT_S,
} satisfies Configuration['ttl'];

export const REFRESH_POLICY = {
  issueRefreshToken: (_ctx: KoaContextWithOIDC, client: Client, code: { scopes: Set<string> }) =>
    client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  rotateRefreshToken: true,
} satisfies Configuration;

export const REVOCATION = {
  enabled: true,
  allowedPolicy: (_ctx: KoaContextWithOIDC, client: Client, token: { clientId?: string }) =>
    token.clientId === client.clientId,
};

export const INTROSPECTION = {
  enabled: true,
  allowedPolicy: (_ctx: KoaContextWithOIDC, client: Client, token: { clientId?: string }) => {
    if (client.clientAuthMethod === 'none') return false;
    return token.clientId === client.clientId || isResourceServer(client);
  },
};
