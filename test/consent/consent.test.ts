/**
 * The consent page, end to end: a third-party client (not `first_party` in the clients file)
 * is shown to the person with the scopes in plain words, Allow and Deny; the answer is
 * remembered per user and client across sessions; `prompt=consent` asks again; first-party
 * clients never see it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import {
  approveAs,
  atRelyingParty,
  authorize,
  decide,
  errorAtRelyingParty,
  newUser,
  onConsentPage,
  redeem,
  relyingParty,
  type TestClient,
} from '../helpers/flows.ts';
import { RP_CLIENT, RP_REDIRECT, startHarness, type Harness } from '../helpers/harness.ts';

const PARTNER: TestClient = {
  client_id: 'partner-app',
  client_secret: 'partner-app-secret-that-is-long-enough',
  client_name: 'Partner <App>',
  redirect_uris: ['http://127.0.0.1:65021/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};
const PARTNER_REDIRECT = PARTNER.redirect_uris[0]!;

describe('consent', { timeout: 60_000 }, () => {
  let h: Harness;
  let partner: oidc.Configuration;

  before(async () => {
    h = await startHarness({ clients: [RP_CLIENT, PARTNER] });
    partner = await relyingParty(h, PARTNER);
  });
  after(() => h.stop());

  it('asks once for a third party, in plain words, and remembers it across sessions', async () => {
    const userId = await newUser(h, 'consent');
    const browser = new Browser();
    const started = await authorize(browser, partner, PARTNER_REDIRECT, {
      scope: 'openid profile email',
    });
    const { hop } = await approveAs(h, browser, started, userId);
    const page = onConsentPage(hop);
    assert.match(hop.body, /Allow Partner &lt;App&gt;\?/, 'the client name, as text');
    assert.match(hop.body, /Know who you are: your NoPass user id/);
    assert.match(hop.body, /See your profile/);
    assert.match(hop.body, /See your e-mail address/);
    assert.doesNotMatch(hop.body, /phone number/);
    assert.match(hop.body, new RegExp(`<strong>${userId}</strong>`));

    const tokens = await redeem(started, await decide(browser, started, page, 'allow'));
    assert.equal(tokens.claims()?.sub, userId);
    assert.match(tokens.scope ?? '', /email/);

    // The same browser: straight back, no page.
    const again = await authorize(browser, partner, PARTNER_REDIRECT, {
      scope: 'openid profile email',
    });
    assert.ok(atRelyingParty(again, again.hop), 'no consent page the second time');
    await redeem(again, again.hop);

    // Another browser, a new session: still remembered.
    const elsewhere = new Browser();
    const fresh = await authorize(elsewhere, partner, PARTNER_REDIRECT, { scope: 'openid email' });
    const approved = await approveAs(h, elsewhere, fresh, userId);
    assert.ok(atRelyingParty(fresh, approved.hop), 'remembered for this user and client');
    await redeem(fresh, approved.hop);

    // More than was allowed: the page again, showing what is new.
    const more = await authorize(elsewhere, partner, PARTNER_REDIRECT, { scope: 'openid phone' });
    onConsentPage(more.hop);
    assert.match(more.hop.body, /See your phone number/);
    assert.doesNotMatch(more.hop.body, /e-mail address/);
  });

  it('sends access_denied with state when the person denies, and remembers nothing', async () => {
    const userId = await newUser(h, 'denies');
    const browser = new Browser();
    const started = await authorize(browser, partner, PARTNER_REDIRECT);
    const { hop } = await approveAs(h, browser, started, userId);
    const back = await decide(browser, started, onConsentPage(hop), 'deny');
    const error = errorAtRelyingParty(started, back);
    assert.equal(error.get('error'), 'access_denied');
    assert.equal(error.get('iss'), h.issuer);
    assert.deepEqual(await h.bridge.store.getConsent(userId, PARTNER.client_id), []);
  });

  it('asks again with prompt=consent, even when remembered', async () => {
    const userId = await newUser(h, 'prompted');
    const browser = new Browser();
    const started = await authorize(browser, partner, PARTNER_REDIRECT);
    const { hop } = await approveAs(h, browser, started, userId);
    await redeem(started, await decide(browser, started, onConsentPage(hop), 'allow'));

    const asked = await authorize(browser, partner, PARTNER_REDIRECT, { prompt: 'consent' });
    const page = onConsentPage(asked.hop);
    assert.match(asked.hop.body, /Know who you are/);
    await redeem(asked, await decide(browser, started, page, 'allow'));
  });

  it('asks a third party for offline access, and then issues a refresh token', async () => {
    const userId = await newUser(h, 'offline');
    const browser = new Browser();
    const started = await authorize(browser, partner, PARTNER_REDIRECT, {
      scope: 'openid offline_access',
      prompt: 'consent',
    });
    const { hop } = await approveAs(h, browser, started, userId);
    onConsentPage(hop);
    assert.match(hop.body, /Keep this access while you are not using it/);
    const tokens = await redeem(started, await decide(browser, started, hop.url, 'allow'));
    assert.ok(tokens.refresh_token, 'a refresh token once allowed');
  });

  it("forgets a deleted user's consents", async () => {
    const userId = await newUser(h, 'forgotten');
    const browser = new Browser();
    const started = await authorize(browser, partner, PARTNER_REDIRECT);
    const { hop } = await approveAs(h, browser, started, userId);
    await redeem(started, await decide(browser, started, onConsentPage(hop), 'allow'));
    assert.deepEqual(await h.bridge.store.getConsent(userId, PARTNER.client_id), [
      'openid',
      'profile',
    ]);
    const deleted = await h.control(`/control/users/${userId}/delete`, {});
    assert.equal(((await deleted.json()) as { portalStatus: number }).portalStatus, 200);
    assert.deepEqual(await h.bridge.store.getConsent(userId, PARTNER.client_id), []);
  });

  it('never shows the page to a first-party client', async () => {
    const userId = await newUser(h, 'first');
    const browser = new Browser();
    const started = await authorize(browser, h.rp, RP_REDIRECT, {
      scope: 'openid profile email phone',
    });
    const { hop } = await approveAs(h, browser, started, userId);
    assert.ok(atRelyingParty(started, hop), 'straight back to the first-party client');
    const tokens = await redeem(started, hop);
    assert.match(tokens.scope ?? '', /phone/);
  });

  it('answers prompt=none with consent_required when nothing was allowed yet', async () => {
    const userId = await newUser(h, 'silent');
    const browser = new Browser();
    const signedIn = await authorize(browser, h.rp, RP_REDIRECT);
    await redeem(signedIn, (await approveAs(h, browser, signedIn, userId)).hop);

    const silent = await authorize(browser, partner, PARTNER_REDIRECT, { prompt: 'none' });
    assert.equal(errorAtRelyingParty(silent, silent.hop).get('error'), 'consent_required');
  });

  it('speaks the language the relying party asked for', async () => {
    const userId = await newUser(h, 'deutsch');
    const browser = new Browser();
    const started = await authorize(browser, partner, PARTNER_REDIRECT, { ui_locales: 'de' });
    const { hop } = await approveAs(h, browser, started, userId);
    onConsentPage(hop);
    assert.match(hop.body, /Partner &lt;App&gt; erlauben\?/);
    assert.match(hop.body, />Ablehnen</);
  });

  it('answers a stray or forged answer with a page and a way forward, never a 500', async () => {
    const userId = await newUser(h, 'stray');
    const browser = new Browser();
    const started = await authorize(browser, partner, PARTNER_REDIRECT);
    const { hop } = await approveAs(h, browser, started, userId);
    const page = onConsentPage(hop);

    const odd = await browser.post(`${page}/consent`, { decision: 'maybe' });
    assert.equal(odd.status, 400);
    assert.match(odd.body, /name="decision" value="allow"/, 'the page again, to choose');

    // Even with the page's token: the form's cookie belongs to the browser that was shown it.
    const token = browser.tokenFor(`${page}/consent`);
    assert.ok(token, 'the consent page carries its token');
    const stranger = await new Browser().post(`${page}/consent`, {
      decision: 'allow',
      _csrf: token,
    });
    assert.equal(stranger.status, 403, 'another browser cannot answer');
    assert.match(stranger.body, /did not come from this site/);

    const signingIn = new Browser();
    const onLogin = await authorize(signingIn, partner, PARTNER_REDIRECT);
    // The user id page has no consent form; its token is the one of every form of the sign-in.
    const early = await signingIn.post(`${onLogin.hop.url}/consent`, {
      decision: 'allow',
      _csrf: signingIn.tokenFor(`${onLogin.hop.url}/cancel`) ?? '',
    });
    assert.equal(early.status, 400, 'nothing to allow before the sign-in');
    assert.match(early.body, /not asking for your consent/);

    const reload = await browser.get(`${page}/consent`);
    assert.equal(reload.status, 303, 'a reload of the form target goes back to the page');
  });
});
