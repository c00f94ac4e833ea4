/**
 * oidc-provider, configured. The provider does all of OpenID Connect (discovery, JWKS,
 * authorization code with PKCE, tokens, userinfo, logout); this module only decides the
 * bridge's policy: where interactions go, which claims exist, how long things live, where state
 * is kept, and how errors look.
 */
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { Provider } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Views } from '../http/views.ts';
import type { Store } from '../state/types.ts';
import { createFindAccount } from './account.ts';
import { providerAdapter } from './adapter.ts';
import type { ClientRegistry } from './client-registry.ts';

export interface ProviderDeps {
  issuer: string;
  store: Store;
  /** The relying parties; replaceable while running (see client-registry.ts). */
  clients: ClientRegistry;
  signingKeys: JWK[];
  cookieKeys: string[];
  trustProxy: boolean;
  views: Views;
}

/** Every interaction page lives under this path so each sees the interaction cookie. */
export function interactionPath(uid: string): string {
  return `/interaction/${uid}`;
}

/**
 * Grants every scope and claim the client asked for. The bridge has no consent screen: every
 * registered client is treated as first-party, the way an organisation's own applications are.
 */
async function grantEverythingRequested(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const { client, session, params } = oidc;
  if (!client || !session?.accountId) return undefined;

  const grantId = oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
  const grant =
    (grantId ? await oidc.provider.Grant.find(grantId) : undefined) ??
    new oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });

  if (typeof params?.scope === 'string') grant.addOIDCScope(params.scope);
  for (const claim of oidc.requestParamClaims ?? []) grant.addOIDCClaims([claim]);
  await grant.save();
  return grant;
}

export function createProvider(deps: ProviderDeps): Provider {
  const { views } = deps;
  const configuration: Configuration = {
    adapter: providerAdapter(deps.store, deps.clients),
    jwks: { keys: deps.signingKeys },
    cookies: { keys: deps.cookieKeys },
    findAccount: createFindAccount(deps.store),
    claims: {
      openid: ['sub'],
      profile: ['preferred_username'],
    },
    // Several widely used relying parties read claims from the ID token and never call
    // userinfo, so the claims of granted scopes go into the ID token too.
    conformIdTokenClaims: false,
    loadExistingGrant: grantEverythingRequested,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = 'html';
          ctx.body = views.page(ctx, 'logout', { form });
        },
        postLogoutSuccessSource: (ctx) => {
          const client = ctx.oidc.client;
          ctx.type = 'html';
          ctx.body = views.page(ctx, 'logged-out', {
            clientName: client?.clientName ?? client?.clientId,
          });
        },
      },
      revocation: {
        enabled: true,
        // A client revokes only its own tokens; anything else is answered as if done
        // (RFC 7009) without touching the token.
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
    },
    interactions: {
      url: (_ctx, interaction) => interactionPath(interaction.uid),
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.state.uiLocales = ctx.oidc?.params?.ui_locales;
      ctx.body = views.page(ctx, 'error', {
        message: out.error_description ?? 'The request could not be processed.',
        code: out.error,
      });
    },
  };

  const provider = new Provider(deps.issuer, configuration);
  provider.proxy = deps.trustProxy;
  return provider;
}
