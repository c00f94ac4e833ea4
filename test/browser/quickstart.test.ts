/**
 * The quickstart as a newcomer meets it: `npm start` with nothing configured, then in a
 * browser: the landing page, "Try it", the user id, the picture, the simulator's phone page
 * (opened from the picture page), approve, and the demo application's page with the claims.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.ts';
import { freePort, startBridgeProcess, type BridgeProcess } from '../helpers/processes.ts';

describe('quickstart', () => {
  let bridge: BridgeProcess;
  let browser: Browser;
  let base: string;
  before(async () => {
    const port = await freePort();
    const simulatorPort = await freePort();
    base = `http://localhost:${port}`;
    // Only the ports differ from a bare `npm start`, so the test never clashes with a
    // quickstart someone left running.
    bridge = await startBridgeProcess(
      { PORT: String(port), SIMULATOR_PORT: String(simulatorPort), NODE_ENV: '' },
      /portal registered with the embedded simulator/,
    );
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await bridge?.stop();
  });

  it('says loudly that it is not for production', () => {
    assert.match(bridge.output(), /QUICKSTART MODE.*Not for production/);
  });

  it(
    'lets a newcomer sign in to the demo app through the phone page',
    { timeout: 90_000 },
    async () => {
      const context = await browser.newContext();
      context.setDefaultTimeout(20_000);
      const page = await context.newPage();
      await page.goto(`${base}/`);
      assert.match((await page.textContent('.banner')) ?? '', /Not for production/);
      await page.click('a:has-text("Try it")');
      await page.fill('#userId', 'demo');
      await page.click('button[type=submit].primary');
      await page.waitForSelector('#picture');

      const [phone] = await Promise.all([
        context.waitForEvent('page'),
        page.click("text=Open the simulator's phone page"),
      ]);
      await phone.waitForLoadState();
      // The phone page reloads itself every few seconds; the approval is done once it says so.
      await Promise.all([
        phone.waitForURL(/done=approved/),
        phone.click('button:has-text("Approve")'),
      ]);

      await page.waitForURL(`${base}/demo/callback**`, { timeout: 10_000 });
      assert.equal(await page.textContent('#subject'), 'demo');
      const claims = JSON.parse((await page.textContent('#claims')) ?? '{}') as {
        sub?: string;
        iss?: string;
      };
      assert.equal(claims.sub, 'demo');
      assert.equal(claims.iss, base);
      await context.close();
    },
  );
});
