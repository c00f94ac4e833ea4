/**
 * The consent page and the social network sign-in in headless Chromium: an accessibility audit
 * of each page (axe-core, injected by the test), and the social sign-in as a person does it,
 * with the network's page in a second tab while the first one follows the sign-in by itself.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext } from 'playwright-core';
import { audit } from '../helpers/axe.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { newUser, relyingParty, type TestClient } from '../helpers/flows.ts';
import {
  authorizationRequest,
  RP_CLIENT,
  RP_REDIRECT,
  startHarness,
  type Harness,
} from '../helpers/harness.ts';

const PARTNER: TestClient = {
  client_id: 'partner-app',
  client_secret: 'partner-app-secret-that-is-long-enough',
  client_name: 'Partner app',
  redirect_uris: ['http://127.0.0.1:65031/callback'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};

describe('consent and social sign-in in a browser', { timeout: 60_000 }, () => {
  let h: Harness;
  let browser: Browser;
  let context: BrowserContext;
  let partner: oidc.Configuration;
  const scriptErrors: string[] = [];

  before(async () => {
    h = await startHarness({
      clients: [RP_CLIENT, PARTNER],
      env: { NOPASS_SOCIAL: 'google,facebook' },
    });
    partner = await relyingParty(h, PARTNER);
    browser = await launchChromium();
  });
  beforeEach(async () => {
    context = await browser.newContext({ bypassCSP: true, viewport: { width: 360, height: 740 } });
    for (const redirect of [RP_REDIRECT, PARTNER.redirect_uris[0]!]) {
      await context.route(`${redirect}**`, (route) => route.fulfill({ status: 200, body: 'RP' }));
    }
    context.on('page', (page) => page.on('pageerror', (error) => scriptErrors.push(error.message)));
  });
  afterEach(() => context.close());
  after(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('shows the consent page accessibly, and Allow returns to the relying party', async () => {
    const userId = await newUser(h, 'a11y-consent');
    const page = await context.newPage();
    const url = oidc.buildAuthorizationUrl(partner, {
      redirect_uri: PARTNER.redirect_uris[0]!,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      login_hint: userId,
    });
    await page.goto(url.href);
    await page.waitForSelector('#picture');
    const [auth] = await h.auths(userId);
    await h.control(`/control/auths/${auth!.authId}/approve`);
    await page.waitForSelector('button[value=allow]');
    assert.deepEqual(await audit(page), [], 'consent page');
    assert.match((await page.textContent('h1')) ?? '', /Allow Partner app\?/);

    const [arrival] = await Promise.all([
      page.waitForRequest((req) => req.url().startsWith(PARTNER.redirect_uris[0]!)),
      page.click('button[value=allow]'),
    ]);
    assert.ok(new URL(arrival.url()).searchParams.get('code'), 'the relying party got a code');
  });

  it('signs in with Google in a second tab while the first one carries on', async () => {
    const userId = await newUser(h, 'a11y-social');
    const page = await context.newPage();
    await page.goto((await authorizationRequest(h.rp)).url.href);
    await page.waitForSelector('#userId');
    assert.deepEqual(await audit(page), [], 'user id form with social networks');

    await page.click('button:has-text("Sign in with Google")');
    await page.waitForSelector('#social-login');
    assert.deepEqual(await audit(page), [], 'social waiting page');

    const [network] = await Promise.all([
      context.waitForEvent('page'),
      page.click('#social-login'),
    ]);
    await network.waitForSelector('#userId');
    await network.fill('#userId', userId);
    const [arrival] = await Promise.all([
      page.waitForRequest((req) => req.url().startsWith(RP_REDIRECT), { timeout: 10_000 }),
      network.click('button.approve'),
    ]);
    assert.ok(new URL(arrival.url()).searchParams.get('code'), 'the first tab reached the RP');
    assert.deepEqual(scriptErrors, [], 'no script error on any page');
  });
});
