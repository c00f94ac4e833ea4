/**
 * Registration in headless Chromium: a person clicks "Register with NoPass", fills in the form,
 * finishes in the simulator's app page and lands at the relying party with a code, with every
 * page's own Content-Security-Policy in force (a form whose submission redirects to another
 * site must be allowed to). Then an accessibility audit of the registration pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { audit } from '../helpers/axe.ts';
import { launchChromium } from '../helpers/chromium.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startHarness,
  type Harness,
} from '../helpers/harness.ts';

describe('registration in a browser', () => {
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

  it('goes from the user id page through the app back to the relying party', async () => {
    const context = await browser.newContext();
    await context.route(`${RP_REDIRECT}**`, (route) => route.fulfill({ status: 200, body: 'RP' }));
    const page = await context.newPage();
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
    });

    const request = await authorizationRequest(h.rp, { scope: 'openid profile email' });
    await page.goto(request.url.href);
    await page.click('#register');
    await page.waitForSelector('#given_name');
    await page.fill('#userId', 'browser-ada');
    await page.fill('#given_name', 'Ada');
    await page.fill('#family_name', 'Lovelace');
    await page.fill('#email', 'ada@example.com');
    await page.click('button.primary');

    // The simulator's page, playing the app.
    await page.waitForSelector('button.approve');
    assert.equal(await page.inputValue('#email'), 'ada@example.com');
    const arrival = page.waitForRequest((req) => req.url().startsWith(RP_REDIRECT));
    await page.click('button.approve');
    const callback = new URL((await arrival).url());
    assert.equal(callback.searchParams.get('state'), request.state);
    assert.ok(callback.searchParams.get('code'), 'the relying party gets its code');
    assert.deepEqual(blocked, [], 'no navigation was blocked by a page policy');
    assert.equal((await h.bridge.store.getUser('browser-ada'))?.profile.surName, 'Lovelace');
    await context.close();
  });

  it('has no serious accessibility problems on the registration pages', async () => {
    // bypassCSP only so the test can inject axe-core.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const checked: Record<string, string[]> = {};

    const request = await authorizationRequest(h.rp);
    await page.goto(request.url.href);
    await page.click('#register');
    await page.waitForSelector('#userId');
    checked['registration form'] = await audit(page);

    await page.fill('#userId', 'x');
    await page.fill('#email', 'not an address');
    await page.click('button.primary');
    await page.waitForSelector('#userId-error');
    checked['registration form with problems'] = await audit(page);

    await page.fill('#userId', 'browser-bob');
    await page.fill('#email', 'bob@example.com');
    await page.click('button.primary');
    await page.waitForSelector('button.approve');
    const back = new URL(page.url());
    const listed = (await (await fetch(`${h.simulatorUrl}/control/registrations`)).json()) as {
      otp: string;
      redirectUrl: string;
    }[];
    const registration = listed.find((each) => back.pathname.endsWith(each.otp));
    assert.ok(registration);
    await page.goto(registration.redirectUrl);
    await page.waitForSelector('h1');
    assert.match((await page.textContent('h1')) ?? '', /Finishing your registration/);
    checked['waiting for NoPass'] = await audit(page);

    for (const [name, violations] of Object.entries(checked)) {
      assert.deepEqual(violations, [], name);
    }
    await context.close();
  });
});
