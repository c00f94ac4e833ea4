/**
 * Interop: an Express application with Auth.js (@auth/express), in its own process, driven by
 * headless Chromium: Auth.js's sign-in page, the bridge's user id and picture pages, the
 * approval, the session the application sees, and sign-out through Auth.js and the bridge.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.ts';
import type { Harness } from '../helpers/harness.ts';
import { startBridge, webClient } from './support/flow.ts';
import {
  freePort,
  RP_HOST,
  startRelyingParty,
  type RelyingPartyProcess,
} from './support/processes.ts';

const USER = 'ada.authjs';
const CLIENT_ID = 'authjs-app';
const CLIENT_SECRET = 'authjs-app-secret-at-least-32-characters';

describe('interop: Auth.js', () => {
  let h: Harness;
  let rp: RelyingPartyProcess;
  let base: string;
  let chromium: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Every URL the browser asked for, in order. */
  const visited: string[] = [];

  before(async () => {
    const port = await freePort();
    base = `http://${RP_HOST}:${port}`;
    h = await startBridge(
      [
        webClient(
          CLIENT_ID,
          CLIENT_SECRET,
          'Auth.js app',
          `${base}/auth/callback/nopass`,
          `${base}/signed-out`,
        ),
      ],
      USER,
    );
    rp = await startRelyingParty({
      name: 'Auth.js',
      command: process.execPath,
      args: [join(import.meta.dirname, 'apps', 'authjs.ts')],
      env: {
        HOST: RP_HOST,
        PORT: String(port),
        AUTH_SECRET: 'authjs-app-session-secret-0123456789abcdef',
        AUTH_TRUST_HOST: 'true',
        AUTH_NOPASS_ID: CLIENT_ID,
        AUTH_NOPASS_SECRET: CLIENT_SECRET,
        AUTH_NOPASS_ISSUER: h.issuer,
      },
      readyUrl: `${base}/signed-out`,
    });
    chromium = await launchChromium();
    context = await chromium.newContext();
    page = await context.newPage();
    page.on('request', (request) => visited.push(request.url()));
  });
  after(async () => {
    await chromium?.close();
    await rp?.stop();
    await h?.stop();
  });

  it('signs in through the picture page and the app sees the NoPass user id', async () => {
    await page.goto(`${base}/profile`);
    await page.click('button:has-text("Sign in with NoPass")');
    await page.waitForSelector('#userId');
    assert.ok(page.url().startsWith(`${h.issuer}/interaction/`), page.url());
    const authorize = visited.find((url) => url.startsWith(`${h.issuer}/auth?`));
    assert.ok(authorize, 'Auth.js sent the browser to the authorization endpoint');
    const params = new URL(authorize).searchParams;
    assert.equal(params.get('client_id'), CLIENT_ID);
    assert.equal(params.get('scope'), 'openid profile');
    assert.equal(params.get('code_challenge_method'), 'S256');

    await page.fill('#userId', USER);
    await page.click('button[type=submit].primary');
    await page.waitForSelector('#picture');
    const [waiting] = await h.auths(USER);
    assert.ok(waiting, 'a NoPass authentication waits for the phone');
    const profile = page.waitForResponse(
      (response) => response.url() === `${base}/profile` && response.status() === 200,
      { timeout: 10_000 },
    );
    await h.control(`/control/auths/${waiting.authId}/approve`);

    // The picture page follows the approval by itself, through Auth.js's callback.
    const seen = (await (await profile).json()) as {
      user: { sub?: string; name?: string; preferredUsername?: string };
    };
    assert.equal(seen.user.sub, USER, rp.output());
    assert.equal(seen.user.name, USER);
    assert.equal(seen.user.preferredUsername, USER);
  });

  it('signs out through Auth.js and the bridge and lands on the signed-out page', async () => {
    await page.goto(`${base}/logout`);
    await page.click('button:has-text("Sign out")');
    await page.waitForURL((url) => url.href.startsWith(`${h.issuer}/session/end`));
    const endSession = visited.findLast((url) => url.startsWith(`${h.issuer}/session/end?`));
    assert.ok(endSession, 'Auth.js sent the browser to the end-session endpoint');
    assert.ok(new URL(endSession).searchParams.get('id_token_hint'), 'it names its ID token');

    await page.click('button[name=logout][value=yes]');
    await page.waitForURL(`${base}/signed-out`);
    assert.equal(await page.textContent('body'), 'Signed out');

    // Neither Auth.js nor the bridge remembers the user: signing in asks for the user id.
    await page.goto(`${base}/profile`);
    await page.click('button:has-text("Sign in with NoPass")');
    await page.waitForSelector('#userId');
    assert.ok(page.url().startsWith(`${h.issuer}/interaction/`), page.url());
  });
});
