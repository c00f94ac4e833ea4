/**
 * The consent page. oidc-provider asks for consent (the interaction's prompt is `consent`) when
 * a client requests scopes or claims its grant does not hold yet, or sends `prompt=consent`.
 *
 *   GET  /interaction/:uid            a first-party client is granted at once (no page); a
 *                                     third party gets the page: its name, the scopes in plain
 *                                     words, Allow and Deny
 *   POST /interaction/:uid/consent    decision=allow: the grant gets what was shown, remembered
 *                                     for the user and client (oidc/grants.ts); deny: the
 *                                     relying party gets access_denied
 */
import type { Context } from 'koa';
import type { Client, Interaction } from 'oidc-provider';
import { BridgeError } from '../http/errors.ts';
import { requestLog } from '../http/request-id.ts';
import { CONSENT_TTL_MS, isFirstParty, scopesOf } from '../oidc/grants.ts';
import type { InteractionDeps } from './deps.ts';
import { loadInteraction } from './interaction.ts';

/** Scopes the catalogues describe in plain words (`consent.scopes.<name>`), in page order. */
const DESCRIBED_SCOPES = ['openid', 'profile', 'email', 'phone', 'offline_access'];

/** A scope as a page shows it: by its catalogue text, or by name when there is none. */
export interface DescribedScope {
  scope: string;
  /** The catalogue key of its plain-words text, when the catalogues have one. */
  key: string | undefined;
}

/**
 * The scopes for a page (this one, and the account page's list of allowed applications): a
 * template shows `t(key)`, or `consent.otherScope` with the name when `key` is undefined.
 */
export function describeScopes(scopes: readonly string[]): DescribedScope[] {
  return scopes.map((scope) => ({
    scope,
    key: DESCRIBED_SCOPES.includes(scope) ? `consent.scopes.${scope}` : undefined,
  }));
}

/** The scopes in the order the consent page lists them: described ones first, then by name. */
export function inPageOrder(scopes: readonly string[]): string[] {
  const rank = (scope: string): number => {
    const index = DESCRIBED_SCOPES.indexOf(scope);
    return index === -1 ? DESCRIBED_SCOPES.length : index;
  };
  const byName = (one: string, two: string): number => (one < two ? -1 : one > two ? 1 : 0);
  return [...scopes].sort((one, two) => rank(one) - rank(two) || byName(one, two));
}

interface ConsentRequest {
  client: Client;
  accountId: string;
  /** The scopes shown and, when allowed, granted: what the request asks that oidc-provider knows. */
  scopes: string[];
  /** Single claims requested with the `claims` parameter that the grant lacks. */
  claims: string[];
}

function stringList(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : [];
}

async function consentRequest(deps: InteractionDeps, interaction: Interaction) {
  const { client_id: clientParam } = interaction.params;
  const clientId = typeof clientParam === 'string' ? clientParam : '';
  const client = await deps.provider.Client.find(clientId);
  if (!client) {
    // The client was removed from the clients file while this sign-in was under way.
    throw new BridgeError(
      400,
      'client_unknown',
      'The application that sent you here is no longer registered. Go back to it and try again.',
    );
  }
  const accountId = interaction.session?.accountId;
  if (!accountId) {
    throw new BridgeError(
      400,
      'login_not_found',
      'This sign-in is no longer in progress. Please start again from the application.',
    );
  }
  const { details } = interaction.prompt;
  const missing = new Set(stringList(details.missingOIDCScope));
  const grant = interaction.grantId
    ? await deps.provider.Grant.find(interaction.grantId)
    : undefined;
  const held = new Set(scopesOf(grant?.getOIDCScope()));
  // With prompt=consent nothing may be missing: the page then shows what the grant holds.
  const scopes = scopesOf(interaction.params.scope).filter(
    (scope) => missing.has(scope) || held.has(scope),
  );
  const request: ConsentRequest = {
    client,
    accountId,
    scopes: [...new Set(scopes)],
    claims: stringList(details.missingOIDCClaims),
  };
  return request;
}

/** Shows the page, or for a first-party client grants without asking. */
export async function showConsent(
  deps: InteractionDeps,
  ctx: Context,
  interaction: Interaction,
): Promise<void> {
  const request = await consentRequest(deps, interaction);
  if (isFirstParty(request.client)) {
    await giveConsent(deps, ctx, interaction, request, false);
    return;
  }
  ctx.status = 200;
  ctx.type = 'html';
  ctx.body = deps.views.page(ctx, 'consent', {
    uid: interaction.uid,
    clientName: request.client.clientName ?? request.client.clientId,
    userId: request.accountId,
    scopes: describeScopes(request.scopes),
    claims: request.claims,
  });
}

/** POST /interaction/:uid/consent */
export async function submitConsent(deps: InteractionDeps, ctx: Context): Promise<void> {
  const interaction = await loadInteraction(deps.provider, ctx);
  if (interaction.prompt.name !== 'consent') {
    throw new BridgeError(
      400,
      'consent_not_asked',
      'This sign-in is not asking for your consent. Go back to the application and try again.',
    );
  }
  const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
  const decision = body.decision;
  if (decision === 'deny') {
    requestLog(ctx, deps.log).info({ client_id: interaction.params.client_id }, 'consent denied');
    await deps.provider.interactionFinished(
      ctx.req,
      ctx.res,
      { error: 'access_denied', error_description: 'The user did not allow this application.' },
      { mergeWithLastSubmission: false },
    );
    ctx.respond = false;
    return;
  }
  if (decision !== 'allow') {
    // Not from the page's own buttons: show the page again rather than guess.
    await showConsent(deps, ctx, interaction);
    ctx.status = 400;
    return;
  }
  const request = await consentRequest(deps, interaction);
  await giveConsent(deps, ctx, interaction, request, true);
}

/**
 * Adds what was asked to the interaction's grant and finishes the interaction with it. Only
 * a person's own decision is remembered: a first-party grant is recomputed on every request.
 */
async function giveConsent(
  deps: InteractionDeps,
  ctx: Context,
  interaction: Interaction,
  request: ConsentRequest,
  remember: boolean,
): Promise<void> {
  const { client, accountId } = request;
  const found = interaction.grantId
    ? await deps.provider.Grant.find(interaction.grantId)
    : undefined;
  const grant = found ?? new deps.provider.Grant({ clientId: client.clientId, accountId });
  if (request.scopes.length > 0) grant.addOIDCScope(request.scopes);
  if (request.claims.length > 0) grant.addOIDCClaims(request.claims);
  const grantId = await grant.save();
  if (remember) {
    await deps.store.addConsent(accountId, client.clientId, request.scopes, CONSENT_TTL_MS);
    requestLog(ctx, deps.log).info(
      { client_id: client.clientId, scopes: request.scopes.join(' ') },
      'consent given',
    );
  }
  await deps.provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } });
  ctx.respond = false;
}
