/**
 * Tokens over real HTTP with openid-client: refresh tokens for `offline_access`, rotation on
 * every use, a reused refresh token revoking its grant, revocation, and who may introspect
 * what.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import {
  approveAs,
  authorize,
  newUser,
  redeem,
  refreshError,
  relyingParty,
  type TestClient,
} from '../helpers/flows.ts';
import { RP_CLIENT, RP_REDIRECT, startHarness, type Harness } from '../helpers/harness.ts';

const OFFLINE_LOGOUT = 'http://127.0.0.1:65011/after-logout';
const OFFLINE: TestClient = {
  client_id: 'offline-app',
  client_secret: 'offline-app-secret-that-is-long-enough',
  redirect_uris: ['http://127.0.0.1:65011/callback'],
  post_logout_redirect_uris: [OFFLINE_LOGOUT],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  first_party: true,
};

const SPA: TestClient = {
  client_id: 'spa',
  redirect_uris: ['http://127.0.0.1:65012/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  first_party: true,
};

/** An API: it only introspects tokens that applications send it. */
const API: TestClient = {
  client_id: 'orders-api',
  client_secret: 'orders-api-secret-that-is-long-enough',
  redirect_uris: [],
  grant_types: [],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
  resource_server: true,
};

describe('tokens', { timeout: 60_000 }, () => {
  let h: Harness;
  let offline: oidc.Configuration;
  let spa: oidc.Configuration;
  let api: oidc.Configuration;

  before(async () => {
    h = await startHarness({ clients: [RP_CLIENT, OFFLINE, SPA, API] });
    offline = await relyingParty(h, OFFLINE);
    spa = await relyingParty(h, SPA);
    api = await relyingParty(h, API);
  });
  after(() => h.stop());

  /** A fresh sign-in of a new user at `rp`, asking for offline access. */
  async function signedIn(rp: oidc.Configuration, client: TestClient, params = {}) {
    const userId = await newUser(h, 'tokens');
    const browser = new Browser();
    const started = await authorize(browser, rp, client.redirect_uris[0]!, {
      scope: 'openid profile offline_access',
      ...params,
    });
    const { hop } = await approveAs(h, browser, started, userId);
    return { userId, browser, tokens: await redeem(started, hop) };
  }

  it('advertises revocation, introspection and back-channel logout', () => {
    const metadata = offline.serverMetadata();
    assert.equal(metadata.revocation_endpoint, `${h.issuer}/token/revocation`);
    assert.equal(metadata.introspection_endpoint, `${h.issuer}/token/introspection`);
    assert.equal(metadata.backchannel_logout_supported, true);
    assert.ok(metadata.scopes_supported?.includes('offline_access'));
    assert.ok(metadata.grant_types_supported?.includes('refresh_token'));
  });

  it('issues a refresh token for offline_access, with or without prompt=consent', async () => {
    for (const params of [{}, { prompt: 'consent' }]) {
      const { tokens } = await signedIn(offline, OFFLINE, params);
      assert.ok(tokens.refresh_token, `a refresh token (${JSON.stringify(params)})`);
      assert.match(tokens.scope ?? '', /offline_access/);
    }
  });

  it('issues none to a client not allowed the refresh_token grant', async () => {
    const { tokens } = await signedIn(h.rp, RP_CLIENT);
    assert.equal(tokens.refresh_token, undefined);
    assert.doesNotMatch(tokens.scope ?? '', /offline_access/);
  });

  it('rotates the refresh token on every use', async () => {
    const { userId, tokens } = await signedIn(offline, OFFLINE);
    const first = await oidc.refreshTokenGrant(offline, tokens.refresh_token!);
    assert.ok(first.refresh_token);
    assert.notEqual(first.refresh_token, tokens.refresh_token, 'a new refresh token');
    assert.equal(first.claims()?.sub, userId, 'a new ID token for the same user');
    const second = await oidc.refreshTokenGrant(offline, first.refresh_token);
    assert.notEqual(second.refresh_token, first.refresh_token);
    const userinfo = await oidc.fetchUserInfo(offline, second.access_token, userId);
    assert.equal(userinfo.sub, userId);
  });

  it('revokes the whole grant when a used refresh token comes back', async () => {
    const { tokens } = await signedIn(offline, OFFLINE);
    const rotated = await oidc.refreshTokenGrant(offline, tokens.refresh_token!);

    // The old token again: someone kept a copy. Nobody gets tokens from this grant any more.
    assert.equal(await refreshError(offline, tokens.refresh_token!), 'invalid_grant');
    assert.equal(await refreshError(offline, rotated.refresh_token!), 'invalid_grant');
    const introspected = await oidc.tokenIntrospection(offline, rotated.access_token);
    assert.equal(introspected.active, false, 'the access tokens of the grant are revoked too');
  });

  it('refreshes a public client with rotation as well', async () => {
    const { tokens } = await signedIn(spa, SPA);
    assert.ok(tokens.refresh_token);
    const rotated = await oidc.refreshTokenGrant(spa, tokens.refresh_token);
    assert.notEqual(rotated.refresh_token, tokens.refresh_token);
    assert.equal(await refreshError(spa, tokens.refresh_token), 'invalid_grant');
  });

  it('lets a client revoke its own refresh token, ending the grant, and no other', async () => {
    const { tokens } = await signedIn(offline, OFFLINE);
    // Another client's attempt is answered as usual and changes nothing.
    await oidc.tokenRevocation(h.rp, tokens.refresh_token!);
    const still = await oidc.refreshTokenGrant(offline, tokens.refresh_token!);

    await oidc.tokenRevocation(offline, still.refresh_token!);
    assert.equal(await refreshError(offline, still.refresh_token!), 'invalid_grant');
    const introspected = await oidc.tokenIntrospection(offline, still.access_token);
    assert.equal(introspected.active, false);
  });

  it('answers introspection for the own client and a resource server only', async () => {
    const { userId, tokens } = await signedIn(offline, OFFLINE);
    const own = await oidc.tokenIntrospection(offline, tokens.access_token);
    assert.equal(own.active, true);
    assert.equal(own.sub, userId);
    assert.equal(own.client_id, OFFLINE.client_id);
    assert.match(own.scope ?? '', /openid/);

    const byApi = await oidc.tokenIntrospection(api, tokens.access_token);
    assert.equal(byApi.active, true, 'a resource server learns about tokens sent to it');
    assert.equal(byApi.sub, userId);

    const byOther = await oidc.tokenIntrospection(h.rp, tokens.access_token);
    assert.deepEqual(byOther, { active: false }, 'another application learns nothing');

    const refresh = await oidc.tokenIntrospection(api, tokens.refresh_token!);
    assert.equal(refresh.active, true);
    assert.equal(refresh.client_id, OFFLINE.client_id);
  });

  it('tells a public client nothing through introspection', async () => {
    const { tokens } = await signedIn(spa, SPA);
    const answer = await oidc.tokenIntrospection(spa, tokens.access_token);
    assert.deepEqual(answer, { active: false });
  });

  it('keeps offline access after signing out of the bridge', async () => {
    const { browser, tokens } = await signedIn(offline, OFFLINE);
    const logout = oidc.buildEndSessionUrl(offline, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: OFFLINE_LOGOUT,
    });
    const confirm = await browser.get(logout.href);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)?.[1];
    assert.ok(xsrf);
    const done = await browser.post(`${h.issuer}/session/end/confirm`, { xsrf, logout: 'yes' });
    assert.equal(done.status, 303);
    const refreshed = await oidc.refreshTokenGrant(offline, tokens.refresh_token!);
    assert.ok(refreshed.access_token, 'offline_access outlives the browser session');
  });

  it('ends a session-bound grant at sign-out: no refresh token without offline_access', async () => {
    const userId = await newUser(h, 'online');
    const browser = new Browser();
    const started = await authorize(browser, h.rp, RP_REDIRECT);
    const { hop } = await approveAs(h, browser, started, userId);
    const tokens = await redeem(started, hop);
    const logout = oidc.buildEndSessionUrl(h.rp, { id_token_hint: tokens.id_token! });
    const confirm = await browser.get(logout.href);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)?.[1];
    assert.ok(xsrf);
    await browser.post(`${h.issuer}/session/end/confirm`, { xsrf, logout: 'yes' });
    const introspected = await oidc.tokenIntrospection(h.rp, tokens.access_token);
    assert.equal(introspected.active, false, 'its access token ends with the session');
  });
});
