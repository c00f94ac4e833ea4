/**
 * oidc-provider, configured. The provider does all of OpenID Connect (discovery, JWKS,
 * authorization code with PKCE, tokens, userinfo, logout); this module only decides the
 * bridge's policy: where interactions go, which claims exist, how long things live, where state
 * is kept, and how errors look.
 */
import type { Configuration } from 'oidc-provider';
import { Provider } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Views } from '../http/views.ts';
import type { Store } from '../state/types.ts';
import { createFindAccount } from './account.ts';
import { providerAdapter } from './adapter.ts';
import type { ClientRegistry } from './client-registry.ts';
import {
  createLoadExistingGrant,
  EXTRA_CLIENT_METADATA,
  keepOfflineAccess,
  validateExtraClientMetadata,
} from './grants.ts';
import { backchannelFetch } from './logout.ts';
import { INTROSPECTION, REFRESH_POLICY, REVOCATION, TOKEN_TTL } from './tokens.ts';

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

/** How long an interaction (one sign-in's pages) can last, in seconds. */
export const INTERACTION_TTL_S = 3600;

/** How long a browser stays signed in at the bridge without signing in again, in seconds. */
export const SESSION_TTL_S = 14 * 24 * 3600;

/**
 * Every address oidc-provider answers with the bridge's configuration, and the methods it takes
 * there (HEAD goes with GET): its default `routes` for the features turned on, the discovery
 * documents, resuming an authorization, and the logout confirmation and success pages. The
 * authorization and end-session endpoints take GET only: POST there needs the session cookie
 * sent cross-site (`SameSite=None`), which the bridge does not do. Anything else is not for
 * the provider: the bridge answers it with its own "no page here", or a 405 naming the methods
 * the address does take.
 */
const PROVIDER_ROUTES: readonly { path: RegExp; methods: readonly string[] }[] = [
  { path: /^\/auth(?:\/[^/]+)?$/, methods: ['GET'] },
  { path: /^\/token$/, methods: ['POST', 'OPTIONS'] },
  { path: /^\/token\/(?:introspection|revocation)$/, methods: ['POST', 'OPTIONS'] },
  { path: /^\/request$/, methods: ['POST', 'OPTIONS'] },
  { path: /^\/me$/, methods: ['GET', 'POST', 'OPTIONS'] },
  { path: /^\/jwks$/, methods: ['GET', 'OPTIONS'] },
  {
    path: /^\/\.well-known\/(?:openid-configuration|oauth-authorization-server)$/,
    methods: ['GET', 'OPTIONS'],
  },
  { path: /^\/session\/end(?:\/success)?$/, methods: ['GET'] },
  { path: /^\/session\/end\/confirm$/, methods: ['POST'] },
];

/**
 * Whether the provider `handles` a request, and the methods it takes at that address
 * (`allowed`, empty when the address is not the provider's).
 */
export function providerRoute(
  path: string,
  method: string,
): { handles: boolean; allowed: readonly string[] } {
  const route = PROVIDER_ROUTES.find((candidate) => candidate.path.test(path));
  if (!route) return { handles: false, allowed: [] };
  const allowed = route.methods.includes('GET') ? [...route.methods, 'HEAD'] : route.methods;
  return { handles: allowed.includes(method), allowed };
}

/** Every interaction page lives under this path so each sees the interaction cookie. */
export function interactionPath(uid: string): string {
  return `/interaction/${uid}`;
}

export function createProvider(deps: ProviderDeps): Provider {
  const { views } = deps;
  const configuration: Configuration = {
    adapter: providerAdapter(deps.store, deps.clients),
    jwks: { keys: deps.signingKeys },
    cookies: { keys: deps.cookieKeys },
    findAccount: createFindAccount(deps.store),
    // Only what the user directory can hold (oidc/account.ts): discovery's claims_supported
    // and scopes_supported come from here, so a relying party is promised nothing more.
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'locale', 'picture', 'preferred_username'],
      email: ['email', 'email_verified'],
      phone: ['phone_number', 'phone_number_verified'],
    },
    // Several widely used relying parties read claims from the ID token and never call
    // userinfo, so the claims of granted scopes go into the ID token too.
    conformIdTokenClaims: false,
    // First-party clients are granted what they ask for; third parties see the consent page
    // (grants.ts). `first_party` and `resource_server` are the bridge's own client metadata.
    loadExistingGrant: createLoadExistingGrant(deps.store),
    extraClientMetadata: {
      properties: [...EXTRA_CLIENT_METADATA],
      validator: validateExtraClientMetadata,
    },
    // Refresh tokens, rotation and reuse, revocation and introspection: tokens.ts.
    ...REFRESH_POLICY,
    fetch: backchannelFetch,
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
      // Logout tokens to every relying party of an ended session that registered a
      // `backchannel_logout_uri`, with `sid` where it asked for it (logout.ts).
      backchannelLogout: { enabled: true },
      revocation: REVOCATION,
      introspection: INTROSPECTION,
    },
    interactions: {
      url: (_ctx, interaction) => interactionPath(interaction.uid),
    },
    ttl: {
      ...TOKEN_TTL,
      Interaction: INTERACTION_TTL_S,
      Session: SESSION_TTL_S,
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
  keepOfflineAccess(provider);
  return provider;
}
