/**
 * The hosted pages as people use them: an automated accessibility audit (axe-core, injected by
 * the test) on every page a person meets, keyboard-only sign-in on a 360 px wide screen, a
 * running countdown, and two tabs signing in at once without crossing over.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { audit } from '../helpers/axe.ts';
import { launchChromium } from '../helpers/chromium.ts';
import {
  authorizationRequest,
  RP_CLIENT,
  RP_REDIRECT,
  startHarness,
  type Harness,
} from '../helpers/harness.ts';

/** A third-party client, so the account page has an application to list. */
const PARTNER = {
  client_id: 'partner-app',
  client_secret: 'partner-app-secret-that-is-long-enough',
  client_name: 'Partner App',
  redirect_uris: ['http://127.0.0.1:65041/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};

describe('hosted pages for people', () => {
  let h: Harness;
  let browser: Browser;
  let context: BrowserContext;
  before(async () => {
    h = await startHarness({ clients: [RP_CLIENT, PARTNER] });
    browser = await launchChromium();
  });
  // A fresh browser profile per test: a session left by one sign-in would skip the next form.
  beforeEach(async () => {
    // bypassCSP only so the test can inject axe-core; the pages' own policy stays as it is.
    context = await browser.newContext({ bypassCSP: true, viewport: { width: 360, height: 740 } });
    await context.route(`${RP_REDIRECT}**`, (route) => route.fulfill({ status: 200, body: 'RP' }));
  });
  afterEach(() => context.close());
  after(async () => {
    await browser?.close();
    await h?.stop();
  });

  async function userIdForm(page: Page): Promise<void> {
    const request = await authorizationRequest(h.rp);
    await page.goto(request.url.href);
    await page.waitForSelector('#userId');
  }

  async function newUser(): Promise<string> {
    const userId = `a11y-${Math.random().toString(36).slice(2, 8)}`;
    await h.control('/control/users', { userId });
    return userId;
  }

  it('has no serious accessibility problems on any page', async () => {
    const page = await context.newPage();
    const checked: Record<string, string[]> = {};

    await page.goto(`${h.issuer}/`);
    checked.landing = await audit(page);

    await userIdForm(page);
    checked['user id form'] = await audit(page);

    await page.fill('#userId', '');
    await page.evaluate('document.querySelector("#userId").removeAttribute("required")');
    await page.click('button.primary');
    await page.waitForSelector('#error');
    checked['user id form with an error'] = await audit(page);

    const userId = await newUser();
    await page.fill('#userId', userId);
    await page.click('button.primary');
    await page.waitForSelector('#picture');
    checked['picture page'] = await audit(page);

    const [auth] = await h.auths(userId);
    await h.control(`/control/auths/${auth!.authId}/refuse`, { reason: 'Not me' });
    await page.waitForSelector('#reason');
    checked['refusal'] = await audit(page);

    await page.goto(`${h.issuer}/interaction/unknown/picture`);
    checked['error page'] = await audit(page);

    for (const [name, violations] of Object.entries(checked)) {
      assert.deepEqual(violations, [], name);
    }
    await page.close();
  });

  it('has no serious accessibility problems on the account pages', async () => {
    const page = await context.newPage();
    const checked: Record<string, string[]> = {};
    const userId = await newUser();
    // What the consent page remembers when the person allows the partner.
    const scopes = ['openid', 'profile', 'email', 'offline_access'];
    await h.bridge.store.addConsent(userId, PARTNER.client_id, scopes, 60_000);

    await page.goto(`${h.issuer}/account`);
    await page.waitForSelector('#userId');
    await page.fill('#userId', userId);
    await page.click('button.primary');
    await page.waitForSelector('#picture');
    const [auth] = await h.auths(userId);
    await h.control(`/control/auths/${auth!.authId}/approve`);
    await page.waitForSelector('#account-user-id');
    await page.waitForSelector('form[action="/account/consents/withdraw"]');
    checked['account page, an application allowed'] = await audit(page);
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= 360, `the account page fits (${width}px)`);

    await page.click('form[action="/account/consents/withdraw"] button');
    await page.waitForSelector('#no-applications');
    checked['account page, no application allowed'] = await audit(page);

    await page.click('a[href="/account/delete"]');
    await page.waitForSelector('form[action="/account/delete"]');
    checked['removal confirmation'] = await audit(page);

    await page.click('form[action="/account/delete"] button');
    await page.waitForSelector('#account-removed');
    checked['removal done'] = await audit(page);

    await page.goto(`${h.issuer}/account/callback?state=not-started&code=x`);
    checked['account error page'] = await audit(page);

    await page.goto(`${h.issuer}/account/signed-out`);
    await page.waitForSelector('#account-left');
    checked['account page left'] = await audit(page);

    for (const [name, violations] of Object.entries(checked)) {
      assert.deepEqual(violations, [], name);
    }
    await page.close();
  });

  it('signs in by keyboard alone on a 360 px wide screen', async () => {
    const page = await context.newPage();
    const userId = await newUser();
    await userIdForm(page);
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= 360, `no sideways scrolling (content is ${width}px wide)`);

    // The user id field has focus when the page opens; Enter submits.
    await page.keyboard.type(userId);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#picture');
    const pictureWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(pictureWidth <= 360, `picture page fits (${pictureWidth}px)`);

    // Every control is reachable with Tab: the cancel button is last on the picture page.
    let reachedCancel = false;
    for (let i = 0; i < 10 && !reachedCancel; i++) {
      await page.keyboard.press('Tab');
      reachedCancel =
        (await page.evaluate('document.activeElement?.textContent ?? ""')) ===
        'Cancel and go back to the application';
    }
    assert.ok(reachedCancel, 'the cancel button is reachable by keyboard');

    const arrival = page.waitForRequest((req) => req.url().startsWith(RP_REDIRECT));
    const [auth] = await h.auths(userId);
    await h.control(`/control/auths/${auth!.authId}/approve`);
    await arrival;
    await page.close();
  });

  it('runs the countdown and announces changes to screen readers', async () => {
    const page = await context.newPage();
    const userId = await newUser();
    const request = await authorizationRequest(h.rp, { login_hint: userId });
    await page.goto(request.url.href);
    await page.waitForSelector('#picture');
    assert.equal(await page.getAttribute('#status', 'aria-live'), 'polite');
    assert.equal(await page.getAttribute('#announcer', 'aria-live'), 'polite');
    const before = Number(await page.textContent('#seconds'));
    await page.waitForTimeout(1300);
    const later = Number(await page.textContent('#seconds'));
    assert.ok(later < before, `countdown went from ${before} to ${later}`);
    const [auth] = await h.auths(userId);
    await h.control(`/control/auths/${auth!.authId}/refuse`);
    await page.close();
  });

  it('keeps two tabs signing in at once apart', async () => {
    const first = await context.newPage();
    const second = await context.newPage();
    const one = await newUser();
    const two = await newUser();
    const requestOne = await authorizationRequest(h.rp, { login_hint: one });
    const requestTwo = await authorizationRequest(h.rp, { login_hint: two });
    await first.goto(requestOne.url.href);
    await second.goto(requestTwo.url.href);
    await first.waitForSelector('#picture');
    await second.waitForSelector('#picture');

    const arrivalTwo = second.waitForRequest((req) => req.url().startsWith(RP_REDIRECT));
    const [authTwo] = await h.auths(two);
    await h.control(`/control/auths/${authTwo!.authId}/approve`);
    const callback = new URL((await arrivalTwo).url());
    assert.equal(callback.searchParams.get('state'), requestTwo.state);

    // The first tab is still waiting for its own approval.
    assert.match((await first.textContent('#status')) ?? '', /Waiting/);
    const [authOne] = await h.auths(one);
    await h.control(`/control/auths/${authOne!.authId}/refuse`, { reason: 'second tab' });
    await first.waitForSelector('#reason');
    assert.equal(await first.textContent('#reason'), 'second tab');
    await first.close();
    await second.close();
  });
});
