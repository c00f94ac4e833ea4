/**
 * The picture page in a real browser: headless Chromium watches the picture change live after
 * an UpdatePicture, runs the countdown, and follows an approval all the way to the relying
 * party, whose code exchange then succeeds.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startHarness,
  type Harness,
} from '../helpers/harness.ts';

/** Polls `check` until it holds, for at most `timeoutMs`. */
async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('picture page in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  before(async () => {
    h = await startHarness();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('updates the picture live and follows an approval to the relying party', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const request = await authorizationRequest(h.rp);
    // The relying party's redirect URI does not listen: catch the browser arriving there.
    const arrival = page.waitForRequest((req) => req.url().startsWith(RP_REDIRECT));
    await page.route(`${RP_REDIRECT}**`, (route) => route.fulfill({ status: 200, body: 'RP' }));

    await page.goto(request.url.href);
    await page.fill('#userId', 'demo');
    await page.click('button[type=submit].primary');
    await page.waitForSelector('#picture');

    const first = await page.getAttribute('#picture', 'src');
    assert.match(first ?? '', /^data:image\/png;base64,/);
    const seconds = Number(await page.textContent('#seconds'));
    assert.ok(seconds > 0 && seconds <= 20, `countdown shows ${seconds}`);

    const [auth] = await h.auths('demo');
    assert.ok(auth);
    await h.control(`/control/auths/${auth.authId}/picture`);
    await waitUntil(async () => (await page.getAttribute('#picture', 'src')) !== first);
    await waitUntil(async () => /new picture/.test((await page.textContent('#status')) ?? ''));

    await mkdir('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/picture-page.png', fullPage: true });

    await h.control(`/control/auths/${auth.authId}/approve`);
    const arrived = await arrival;
    const callback = new URL(arrived.url());
    assert.equal(callback.searchParams.get('state'), request.state);

    const tokens = await oidc.authorizationCodeGrant(h.rp, callback, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    assert.equal(tokens.claims()?.sub, 'demo');
    await page.close();
  });

  it("delivers the code with response_mode=form_post under the pages' strict CSP", async () => {
    const page = await browser.newPage();
    const request = await authorizationRequest(h.rp, {
      login_hint: 'demo',
      response_mode: 'form_post',
    });
    const posted = page.waitForRequest(
      (req) => req.url().startsWith(RP_REDIRECT) && req.method() === 'POST',
    );
    await page.route(`${RP_REDIRECT}**`, (route) => route.fulfill({ status: 200, body: 'RP' }));
    await page.goto(request.url.href);
    await page.waitForSelector('#picture');
    const [auth] = await h.auths('demo');
    assert.ok(auth);
    await h.control(`/control/auths/${auth.authId}/approve`);
    const form = new URLSearchParams((await posted).postData() ?? '');
    assert.equal(form.get('state'), request.state);
    assert.ok(form.get('code'), 'the auto-submitting form ran and carried the code');
    await page.close();
  });

  it('shows a refusal reason as text after a live verdict', async () => {
    const page = await browser.newPage();
    const request = await authorizationRequest(h.rp, { login_hint: 'demo' });
    await page.goto(request.url.href);
    await page.waitForSelector('#picture');
    const [auth] = await h.auths('demo');
    assert.ok(auth);
    await h.control(`/control/auths/${auth.authId}/refuse`, { reason: '<img src=x> not me' });
    await page.waitForSelector('text=Sign-in refused', { timeout: 5000 });
    assert.equal(await page.textContent('#reason'), '<img src=x> not me');
    assert.equal(await page.locator('img[src=x]').count(), 0, 'the reason is never markup');
    await page.close();
  });
});

describe('picture page in Chromium when nothing arrives in time', () => {
  let h: Harness;
  let browser: Browser;
  before(async () => {
    h = await startHarness({
      simulator: { nextChangeMs: 1500, maxPictures: 1 },
      env: { PICTURE_GRACE_MS: '300' },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('says the picture expired and offers to try again, which starts afresh', async () => {
    const page = await browser.newPage();
    const request = await authorizationRequest(h.rp, { login_hint: 'demo' });
    await page.goto(request.url.href);
    await page.waitForSelector('#picture');
    // No new picture and no verdict: the page moves on by itself once the deadline passes.
    await page.waitForSelector('text=The picture expired', { timeout: 5000 });
    await page.click('button:has-text("Try again")');
    await page.waitForSelector('#picture');
    const waiting = await h.auths('demo');
    assert.equal(waiting.length, 1, 'a fresh NoPass authentication is waiting');
    await page.close();
  });
});
