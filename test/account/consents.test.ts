/**
 * "Applications you allowed" on the account page, end to end over real HTTP: third-party
 * clients a person allowed on the consent page are listed by name with the scopes in plain
 * words; withdrawing one forgets the consent and revokes that client's grants (its refresh
 * token fails, its access token is inactive, its next sign-in asks again) and leaves the other
 * clients alone; a forged or unknown withdrawal changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser, type Hop } from '../helpers/browser.ts';
import {
  approveAs,
  authorize,
  decide,
  newUser,
  onConsentPage,
  redeem,
  refreshError,
  relyingParty,
  signInToAccount,
  type TestClient,
} from '../helpers/flows.ts';
import { RP_CLIENT, RP_REDIRECT, startHarness, type Harness } from '../helpers/harness.ts';

const PARTNER: TestClient = {
  client_id: 'partner-app',
  client_secret: 'partner-app-secret-that-is-long-enough',
  client_name: 'Partner <App>',
  redirect_uris: ['http://127.0.0.1:65031/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};
const PARTNER_REDIRECT = PARTNER.redirect_uris[0]!;

/** A second third party, without a client_name: listed by its client id. */
const READER: TestClient = {
  client_id: 'news-reader',
  client_secret: 'news-reader-secret-that-is-long-enough',
  redirect_uris: ['http://127.0.0.1:65032/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};
const READER_REDIRECT = READER.redirect_uris[0]!;

/** The client ids the account page offers to withdraw, in the order it lists them. */
function listed(page: Hop): string[] {
  return [...page.body.matchAll(/name="client_id" value="([^"]*)"/g)].map(([, id]) => id!);
}

describe('account page: applications you allowed', { timeout: 60_000 }, () => {
  let h: Harness;
  let partner: oidc.Configuration;
  let reader: oidc.Configuration;
  let account: string;
  let withdraw: string;

  before(async () => {
    h = await startHarness({ clients: [RP_CLIENT, PARTNER, READER] });
    partner = await relyingParty(h, PARTNER);
    reader = await relyingParty(h, READER);
    account = `${h.issuer}/account`;
    withdraw = `${account}/consents/withdraw`;
  });
  after(() => h.stop());

  /**
   * `userId` signs in to `rp` in `browser` with offline access, allows it on the consent page,
   * and gets tokens with a refresh token.
   */
  async function allow(
    browser: Browser,
    rp: oidc.Configuration,
    redirectUri: string,
    userId: string,
    scope: string,
  ) {
    const started = await authorize(browser, rp, redirectUri, { scope, prompt: 'consent' });
    // The user id form the first time; the consent page at once while the browser is signed in.
    const onUserIdForm = /name="userId"/.test(started.hop.body);
    const hop = onUserIdForm ? (await approveAs(h, browser, started, userId)).hop : started.hop;
    const tokens = await redeem(
      started,
      await decide(browser, started, onConsentPage(hop), 'allow'),
    );
    assert.ok(tokens.refresh_token, 'a refresh token once offline access is allowed');
    return tokens;
  }

  it('says when no application has been allowed yet', async () => {
    const userId = await newUser(h, 'apps-none');
    // A first-party client signed in to: never asked, so never listed.
    const browser = new Browser();
    const started = await authorize(browser, h.rp, RP_REDIRECT);
    await redeem(started, (await approveAs(h, browser, started, userId)).hop);

    const page = await signInToAccount(h, new Browser(), userId);
    assert.match(page.body, /Applications you allowed/);
    assert.match(page.body, /id="no-applications">You have not allowed any application yet/);
    assert.deepEqual(listed(page), []);
  });

  it('lists what was allowed, and withdrawing ends that client’s access only', async () => {
    const userId = await newUser(h, 'apps-withdraw');
    const browser = new Browser();
    const partnerTokens = await allow(
      browser,
      partner,
      PARTNER_REDIRECT,
      userId,
      'openid profile email offline_access',
    );
    const readerTokens = await allow(
      browser,
      reader,
      READER_REDIRECT,
      userId,
      'openid offline_access',
    );

    const accountBrowser = new Browser();
    const page = await signInToAccount(h, accountBrowser, userId);
    assert.deepEqual(listed(page), [READER.client_id, PARTNER.client_id], 'by name');
    assert.match(page.body, /<h3>Partner &lt;App&gt;<\/h3>/, 'the client name, as text');
    assert.match(page.body, /<h3>news-reader<\/h3>/, 'the client id when it has no name');
    assert.match(page.body, /See your e-mail address/);
    assert.match(page.body, /Keep this access while you are not using it/);
    assert.match(page.body, /Know who you are: your NoPass user id/);
    assert.doesNotMatch(page.body, /See your phone number/);
    const order = ['Know who you are', 'See your profile', 'See your e-mail', 'Keep this access'];
    const positions = order.map((text) => page.body.lastIndexOf(text));
    assert.deepEqual(
      positions,
      [...positions].sort((one, two) => one - two),
      'in the order the consent page shows them',
    );
    assert.match(page.body, /Remembered until\s*<time datetime=/);
    assert.match(page.body, /aria-label="Withdraw: Partner &lt;App&gt;"/);
    assert.match(page.body, /action="\/account\/consents\/withdraw"/);
    assert.doesNotMatch(page.body, /id="no-applications"/);

    const done = await accountBrowser.post(withdraw, { client_id: PARTNER.client_id });
    assert.equal(done.status, 303, done.body);
    assert.equal(done.location, account);
    const after = await accountBrowser.get(account);
    assert.equal(after.status, 200);
    assert.deepEqual(listed(after), [READER.client_id], 'the withdrawn one is gone');
    assert.deepEqual(await h.bridge.store.getConsent(userId, PARTNER.client_id), []);

    // The partner's tokens are revoked; the reader's still work.
    assert.equal(await refreshError(partner, partnerTokens.refresh_token!), 'invalid_grant');
    const inactive = await oidc.tokenIntrospection(partner, partnerTokens.access_token);
    assert.equal(inactive.active, false, 'its access token is revoked too');
    const active = await oidc.tokenIntrospection(reader, readerTokens.access_token);
    assert.equal(active.active, true, 'another client keeps its access');
    const refreshed = await oidc.refreshTokenGrant(reader, readerTokens.refresh_token!);
    assert.ok(refreshed.access_token);

    // The next sign-in at the partner, in another browser, shows the consent page again.
    const elsewhere = new Browser();
    const fresh = await authorize(elsewhere, partner, PARTNER_REDIRECT);
    onConsentPage((await approveAs(h, elsewhere, fresh, userId)).hop);
    // So does its next request where the person is still signed in at the bridge; allowed
    // there, it works as any first consent does.
    const again = await authorize(browser, partner, PARTNER_REDIRECT);
    const allowedAgain = await decide(browser, again, onConsentPage(again.hop), 'allow');
    assert.equal((await redeem(again, allowedAgain)).claims()?.sub, userId, 'allowed anew');
    assert.deepEqual(await h.bridge.store.getConsent(userId, PARTNER.client_id), [
      'openid',
      'profile',
    ]);

    // Withdrawn again, then once more: nothing left the second time.
    const listedAgain = await accountBrowser.get(account);
    assert.deepEqual(listed(listedAgain), [READER.client_id, PARTNER.client_id]);
    const second = await accountBrowser.post(withdraw, { client_id: PARTNER.client_id });
    assert.equal(second.status, 303);
    const twice = await accountBrowser.post(withdraw, { client_id: PARTNER.client_id });
    assert.equal(twice.status, 400);
    assert.match(twice.body, /consent_not_found/);
    const reload = await accountBrowser.get(withdraw);
    assert.equal(reload.status, 303);
    assert.equal(reload.location, account);
  });

  it('refuses a withdrawal sent from another site, changing nothing', async () => {
    const userId = await newUser(h, 'apps-forged');
    const browser = new Browser();
    const tokens = await allow(browser, partner, PARTNER_REDIRECT, userId, 'openid offline_access');
    const accountBrowser = new Browser();
    await signInToAccount(h, accountBrowser, userId);

    const forged = await accountBrowser.forge(withdraw, { client_id: PARTNER.client_id });
    assert.equal(forged.status, 403);
    assert.match(forged.body, /csrf_token_invalid/);
    assert.deepEqual(await h.bridge.store.getConsent(userId, PARTNER.client_id), [
      'offline_access',
      'openid',
    ]);
    assert.deepEqual(listed(await accountBrowser.get(account)), [PARTNER.client_id]);
    const refreshed = await oidc.refreshTokenGrant(partner, tokens.refresh_token!);
    assert.ok(refreshed.access_token, 'the refresh token still works');
  });

  it('answers an unknown or unallowed client id with a page and a way back', async () => {
    const userId = await newUser(h, 'apps-unknown');
    const browser = new Browser();
    await allow(browser, partner, PARTNER_REDIRECT, userId, 'openid offline_access');
    const accountBrowser = new Browser();
    await signInToAccount(h, accountBrowser, userId);

    const cases: [Record<string, string>, string][] = [
      [{ client_id: 'no-such-client' }, 'consent_not_found'],
      [{ client_id: READER.client_id }, 'consent_not_found'],
      [{ client_id: RP_CLIENT.client_id }, 'consent_not_found'],
      [{}, 'invalid_request'],
      [{ client_id: '' }, 'invalid_request'],
      [{ client_id: 'x'.repeat(300) }, 'invalid_request'],
    ];
    for (const [form, code] of cases) {
      const refused = await accountBrowser.post(withdraw, form);
      const label = JSON.stringify(form).slice(0, 40);
      assert.equal(refused.status, 400, label);
      assert.match(refused.headers.get('content-type') ?? '', /text\/html/, label);
      assert.match(refused.body, /Nothing was withdrawn/, label);
      assert.match(refused.body, new RegExp(code), label);
      assert.match(refused.body, /href="\/account"/, label);
    }
    assert.deepEqual(listed(await accountBrowser.get(account)), [PARTNER.client_id]);
    assert.deepEqual(await h.bridge.store.getConsent(userId, PARTNER.client_id), [
      'offline_access',
      'openid',
    ]);
  });
});
