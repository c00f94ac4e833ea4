/**
 * A refresh token ends with its user, whichever side deletes them: NoPass, with its DeleteUser
 * callback, or the person on the account page (DeleteInitialPortal, then the deletion here).
 * An openid-client relying party holds the token; afterwards refreshing is `invalid_grant` and
 * introspection calls every token of the grant inactive.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser, last } from '../helpers/browser.ts';
import {
  approveAs,
  authorize,
  newUser,
  redeem,
  refreshError,
  relyingParty,
  type TestClient,
} from '../helpers/flows.ts';
import { RP_CLIENT, startHarness, type Harness } from '../helpers/harness.ts';

const OFFLINE: TestClient = {
  client_id: 'offline-reader',
  client_secret: 'offline-reader-secret-that-is-long-enough',
  redirect_uris: ['http://127.0.0.1:65021/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  first_party: true,
};

describe('deleting a user revokes their refresh tokens', { timeout: 60_000 }, () => {
  let h: Harness;
  let rp: oidc.Configuration;

  before(async () => {
    h = await startHarness({ clients: [RP_CLIENT, OFFLINE] });
    rp = await relyingParty(h, OFFLINE);
  });
  after(() => h.stop());

  /** A new user signs in to the relying party with offline access; the refresh token works. */
  async function offlineTokens() {
    const userId = await newUser(h, 'offline');
    const browser = new Browser();
    const started = await authorize(browser, rp, OFFLINE.redirect_uris[0]!, {
      scope: 'openid profile offline_access',
    });
    const { hop } = await approveAs(h, browser, started, userId);
    const issued = await redeem(started, hop);
    assert.ok(issued.refresh_token, 'a refresh token for offline access');
    // Used once, as an application does: the rotated token is the one it holds now.
    const tokens = await oidc.refreshTokenGrant(rp, issued.refresh_token);
    assert.ok(tokens.refresh_token);
    assert.equal((await oidc.tokenIntrospection(rp, tokens.refresh_token)).active, true);
    return { userId, browser, tokens };
  }

  async function assertRevoked(tokens: oidc.TokenEndpointResponse) {
    assert.equal(await refreshError(rp, tokens.refresh_token!), 'invalid_grant');
    const refresh = await oidc.tokenIntrospection(rp, tokens.refresh_token!);
    assert.equal(refresh.active, false, 'the refresh token is inactive');
    const access = await oidc.tokenIntrospection(rp, tokens.access_token);
    assert.equal(access.active, false, 'and so is the access token issued with it');
  }

  it('after a DeleteUser from NoPass', async () => {
    const { userId, tokens } = await offlineTokens();
    const deleted = await h.control(`/control/users/${userId}/delete`, {});
    assert.equal(((await deleted.json()) as { portalStatus: number }).portalStatus, 200);
    assert.equal(await h.bridge.store.getUser(userId), undefined);
    await assertRevoked(tokens);
  });

  it('after the removal on the account page', async () => {
    const { userId, browser, tokens } = await offlineTokens();
    // The same browser, still signed in at the bridge: the account page asks for a fresh
    // approval all the same.
    const form = last(await browser.follow(`${h.issuer}/account`));
    assert.match(form.url, /\/interaction\/[\w-]+$/, `the user id form, got ${form.status}`);
    const submitted = await browser.post(`${form.url}/login`, { userId });
    assert.equal(submitted.status, 303, submitted.body);
    const [auth] = await h.auths(userId);
    assert.ok(auth, 'a new authentication waits on the phone');
    await h.control(`/control/auths/${auth.authId}/approve`);
    const page = last(await browser.follow(`${form.url}/picture`));
    assert.equal(page.status, 200);
    assert.match(page.body, new RegExp(`id="account-user-id">${userId}<`));
    const confirm = await browser.get(`${h.issuer}/account/delete`);
    assert.equal(confirm.status, 200);
    const done = await browser.post(`${h.issuer}/account/delete`, {});
    assert.equal(done.status, 200, done.body);
    assert.match(done.body, /id="account-removed"/);
    assert.equal(await h.bridge.store.getUser(userId), undefined);
    await assertRevoked(tokens);
  });
});
