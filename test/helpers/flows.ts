/**
 * Steps of a sign-in as a relying party and a person see them, for tests that need several
 * clients, several sign-ins in one browser, or to stop half-way (the consent page, a prompt):
 * an openid-client configuration per client, the authorization request, the user id form and
 * the approval on the simulator, and the code exchange.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { last, type Browser, type Hop } from './browser.ts';
import type { Harness } from './harness.ts';

export interface TestClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  [key: string]: unknown;
}

/** openid-client's view of one client of the bridge. */
export function relyingParty(h: Harness, client: TestClient): Promise<oidc.Configuration> {
  const auth =
    client.client_secret === undefined ? oidc.None() : oidc.ClientSecretBasic(client.client_secret);
  return oidc.discovery(new URL(h.issuer), client.client_id, client.client_secret, auth, {
    execute: [oidc.allowInsecureRequests],
  });
}

export interface Started {
  rp: oidc.Configuration;
  redirectUri: string;
  verifier: string;
  state: string;
  nonce: string;
  /** Where the browser stopped: a page of the bridge, or the redirect to the relying party. */
  hop: Hop;
}

/** The browser follows an authorization request until a page or the relying party. */
export async function authorize(
  browser: Browser,
  rp: oidc.Configuration,
  redirectUri: string,
  params: Record<string, string> = {},
): Promise<Started> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  const hop = last(await browser.follow(url.href, redirectUri));
  return { rp, redirectUri, verifier, state, nonce, hop };
}

/** True when the browser was sent back to the relying party. */
export function atRelyingParty(started: Pick<Started, 'redirectUri'>, hop: Hop): boolean {
  return hop.location?.startsWith(started.redirectUri) ?? false;
}

/**
 * On the user id form: types the user id, approves the newest waiting authentication on the
 * simulator, and follows the browser to the relying party or the next page (consent).
 * Returns that hop and the approved authId.
 */
export async function approveAs(
  h: Harness,
  browser: Browser,
  started: Started,
  userId: string,
): Promise<{ hop: Hop; authId: string }> {
  const interaction = started.hop.url;
  assert.match(interaction, /\/interaction\/[\w-]+$/, `on the user id form, got ${interaction}`);
  const submitted = await browser.post(`${interaction}/login`, { userId });
  assert.equal(submitted.status, 303, submitted.body);
  const waiting = await h.auths(userId);
  const authId = waiting.at(-1)?.authId;
  assert.ok(authId, 'the simulator has the authentication');
  const approved = await h.control(`/control/auths/${authId}/approve`);
  assert.equal(((await approved.json()) as { portalStatus: number }).portalStatus, 200);
  const hop = last(await browser.follow(`${interaction}/picture`, started.redirectUri));
  return { hop, authId };
}

/** Checks that `hop` is the consent page (Allow and Deny) and returns its address. */
export function onConsentPage(hop: Hop): string {
  assert.equal(hop.status, 200, `the consent page, got ${hop.status} ${hop.location ?? ''}`);
  assert.match(hop.url, /\/interaction\/[\w-]+$/);
  assert.match(hop.body, /name="decision" value="allow"/);
  return hop.url;
}

/** Presses a button of the consent page and follows the browser to the relying party. */
export async function decide(
  browser: Browser,
  started: Started,
  page: string,
  decision: string,
): Promise<Hop> {
  const answer = await browser.post(`${page}/consent`, { decision });
  assert.equal(answer.status, 303, answer.body);
  return last(await browser.follow(answer.location!, started.redirectUri));
}

/**
 * Opens the account page in `browser` and signs in to it as `userId` (the account page always
 * asks for a fresh approval); returns the account page.
 */
export async function signInToAccount(h: Harness, browser: Browser, userId: string): Promise<Hop> {
  const account = `${h.issuer}/account`;
  const form = last(await browser.follow(account));
  assert.match(form.url, /\/interaction\/[\w-]+$/, `the user id form, got ${form.status}`);
  const submitted = await browser.post(`${form.url}/login`, { userId });
  assert.equal(submitted.status, 303, submitted.body);
  const authId = (await h.auths(userId)).at(-1)?.authId;
  assert.ok(authId, 'the simulator has the authentication');
  const approved = await h.control(`/control/auths/${authId}/approve`);
  assert.equal(((await approved.json()) as { portalStatus: number }).portalStatus, 200);
  const page = last(await browser.follow(`${form.url}/picture`));
  assert.equal(page.url, account, `back on the account page, got ${page.status}`);
  assert.equal(page.status, 200);
  return page;
}

/** Exchanges the code the browser brought back; checks state and nonce. */
export async function redeem(
  started: Started,
  hop: Hop,
): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  assert.ok(atRelyingParty(started, hop), `back at the relying party, got ${hop.status}`);
  return oidc.authorizationCodeGrant(started.rp, new URL(hop.location!), {
    pkceCodeVerifier: started.verifier,
    expectedState: started.state,
    expectedNonce: started.nonce,
  });
}

/** The error the relying party received instead of a code. */
export function errorAtRelyingParty(started: Started, hop: Hop): URLSearchParams {
  assert.ok(atRelyingParty(started, hop), `back at the relying party, got ${hop.status}`);
  const params = new URL(hop.location!).searchParams;
  assert.equal(params.get('state'), started.state);
  return params;
}

let users = 0;
/** A user id the simulator knows, fresh for each call. */
export async function newUser(h: Harness, label = 'user'): Promise<string> {
  users += 1;
  const userId = `${label}-${process.pid}-${users}`.slice(0, 36);
  const added = await h.control('/control/users', { userId });
  assert.equal(added.status, 200);
  return userId;
}

/** The OAuth error a refresh with `refreshToken` is answered with; fails if it is accepted. */
export async function refreshError(rp: oidc.Configuration, refreshToken: string): Promise<string> {
  try {
    await oidc.refreshTokenGrant(rp, refreshToken);
  } catch (error) {
    return (error as { error?: string }).error ?? String(error);
  }
  return assert.fail('the refresh token was accepted');
}

export { eventually } from './eventually.ts';
