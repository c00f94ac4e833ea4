/**
 * What a relying party is granted, and when the person is asked first.
 *
 * A client marked `"first_party": true` in the clients file (the organisation's own
 * applications) gets every scope and claim it asks for, without a consent page. Any other
 * client (the default) is a third party: the person sees the consent page (interaction/
 * consent.ts) for whatever they have not allowed it yet, and what they allow is remembered per
 * user and client for CONSENT_TTL_MS, across sessions, so the page comes back only for scopes
 * not allowed before, or when the client sends `prompt=consent`.
 *
 * `offline_access`: oidc-provider drops it from an authorization request unless the request
 * says `prompt=consent` (OpenID Connect Core, section 11) and the client may use the
 * `refresh_token` grant. A third party is asked on the consent page, so that rule stands for
 * it. A first-party client is never asked, so it gets `offline_access` back whenever it asked
 * for it in a code flow and may use `refresh_token`: the request's own `scope` is read again,
 * before an interaction is saved (keepOfflineAccess) or when the grant is loaded. A request
 * object or pushed request is not read again: such a client sends `prompt=consent`.
 */
import type { Client, Grant, KoaContextWithOIDC, Provider } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Store } from '../state/types.ts';

/** How long a person's consent to a client is remembered after they last gave it. */
export const CONSENT_TTL_MS = 365 * 24 * 3600 * 1000;

/** Client metadata the bridge adds to the standard registration fields. */
export const EXTRA_CLIENT_METADATA = ['first_party', 'resource_server'] as const;

/** Refuses anything but a JSON boolean for the bridge's own client metadata. */
export function validateExtraClientMetadata(_ctx: unknown, key: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new errors.InvalidClientMetadata(`${key} must be true or false`);
  }
}

/** True for a client the operator marked as the organisation's own: it skips consent. */
export function isFirstParty(client: Client | undefined): boolean {
  return (client as Record<string, unknown> | undefined)?.first_party === true;
}

/** True for a client that may introspect tokens issued to other clients (an API). */
export function isResourceServer(client: Client | undefined): boolean {
  return (client as Record<string, unknown> | undefined)?.resource_server === true;
}

export function scopesOf(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter((item) => item !== '') : [];
}

/** True when a first-party client asked, in this very request, for offline access it may have. */
function wantsOfflineAccess(ctx: KoaContextWithOIDC, client: Client | undefined): boolean {
  if (!client || !isFirstParty(client) || !client.grantTypeAllowed('refresh_token')) return false;
  const { oidc } = ctx;
  if (oidc.route !== 'authorization') return false;
  const responseType = oidc.params?.response_type;
  if (typeof responseType !== 'string' || !responseType.split(' ').includes('code')) return false;
  const raw = (ctx.method === 'POST' ? oidc.body : ctx.query) as { scope?: unknown } | undefined;
  return scopesOf(raw?.scope).includes('offline_access');
}

/** Adds `offline_access` back to a scope string that lost it. */
function withOfflineAccess(scope: unknown): string {
  const scopes = scopesOf(scope);
  return scopes.includes('offline_access')
    ? scopes.join(' ')
    : [...scopes, 'offline_access'].join(' ');
}

/**
 * The other half of giving a first-party client the `offline_access` it asked for: when the
 * authorization request had to start an interaction (nobody signed in yet), the interaction
 * was saved with the request's parameters as oidc-provider left them; the scope is restored
 * there, so the request resumes with it after the sign-in.
 */
export function keepOfflineAccess(provider: Provider): void {
  provider.use(async (koa, next) => {
    await next();
    // Routes that are not OpenID Connect's (a 404) have no `oidc`.
    const ctx = koa as Partial<KoaContextWithOIDC>;
    const interaction = ctx.oidc?.entities.Interaction;
    if (!interaction || !wantsOfflineAccess(koa as KoaContextWithOIDC, ctx.oidc?.client)) return;
    const scope = interaction.params.scope;
    if (scopesOf(scope).includes('offline_access')) return;
    interaction.params.scope = withOfflineAccess(scope);
    await interaction.persist();
  });
}

/**
 * oidc-provider's `loadExistingGrant`: the grant an authorization request is checked against.
 * Anything it lacks that the request asks for sends the person to the consent prompt.
 */
export function createLoadExistingGrant(store: Store) {
  return async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
    const { oidc } = ctx;
    const { client, session, params } = oidc;
    const accountId = session?.accountId;
    if (!client || !accountId) return undefined;

    const grantId = oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
    const found = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    // A grant of another account (the browser's session changed hands) is never reused.
    const existing =
      found?.accountId === accountId && found.clientId === client.clientId ? found : undefined;
    if (params && wantsOfflineAccess(ctx, client)) params.scope = withOfflineAccess(params.scope);
    const requested = scopesOf(params?.scope);
    const fresh = (): Grant => new oidc.provider.Grant({ clientId: client.clientId, accountId });

    if (isFirstParty(client)) {
      const grant = existing ?? fresh();
      if (requested.length > 0) grant.addOIDCScope(requested);
      const claims = oidc.requestParamClaims ?? new Set<string>();
      if (claims.size > 0) grant.addOIDCClaims(claims);
      await grant.save();
      return grant;
    }

    const remembered = new Set(await store.getConsent(accountId, client.clientId));
    const allowed = requested.filter((scope) => remembered.has(scope));
    if (allowed.length === 0) return existing;
    const grant = existing ?? fresh();
    grant.addOIDCScope(allowed);
    await grant.save();
    return grant;
  };
}
