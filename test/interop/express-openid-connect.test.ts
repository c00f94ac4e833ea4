/**
 * Interop: an Express application with express-openid-connect, in its own process, signs a
 * user in through the bridge's pages and signs out at the bridge again.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { last } from '../helpers/browser.ts';
import type { Harness } from '../helpers/harness.ts';
import {
  assertSignedOutEverywhere,
  authorizationParams,
  confirmSignOut,
  signIn,
  startBridge,
  webClient,
} from './support/flow.ts';
import { NavigatingBrowser } from './support/navigator.ts';
import {
  freePort,
  RP_HOST,
  startRelyingParty,
  type RelyingPartyProcess,
} from './support/processes.ts';

const USER = 'ada.express';
const CLIENT_ID = 'express-app';
const CLIENT_SECRET = 'express-app-secret-at-least-32-characters';

describe('interop: express-openid-connect', () => {
  let h: Harness;
  let rp: RelyingPartyProcess;
  let base: string;
  const browser = new NavigatingBrowser();

  before(async () => {
    const port = await freePort();
    base = `http://${RP_HOST}:${port}`;
    h = await startBridge(
      [
        webClient(
          CLIENT_ID,
          CLIENT_SECRET,
          'Express app',
          `${base}/callback`,
          `${base}/signed-out`,
        ),
      ],
      USER,
    );
    rp = await startRelyingParty({
      name: 'express-openid-connect',
      command: process.execPath,
      args: [join(import.meta.dirname, 'apps', 'express-openid-connect.ts')],
      env: {
        HOST: RP_HOST,
        PORT: String(port),
        ISSUER_BASE_URL: h.issuer,
        BASE_URL: base,
        CLIENT_ID,
        CLIENT_SECRET,
        SECRET: 'express-app-session-secret-0123456789abcdef',
      },
      readyUrl: `${base}/signed-out`,
    });
  });
  after(async () => {
    await rp?.stop();
    await h?.stop();
  });

  it('signs in through the picture page and the app sees the NoPass user id', async () => {
    const { toBridge, back } = await signIn(h, browser, `${base}/profile`, USER);
    const params = authorizationParams(toBridge, h.issuer);
    assert.equal(params.get('client_id'), CLIENT_ID);
    assert.equal(params.get('response_type'), 'code');
    assert.equal(params.get('scope'), 'openid profile');

    const page = last(back);
    assert.equal(page.status, 200, `${rp.output()}\n${page.body}`);
    assert.equal(page.url, `${base}/profile`, 'the app returns the user to the page they asked');
    const seen = JSON.parse(page.body) as {
      user: Record<string, unknown>;
      idTokenClaims: Record<string, unknown>;
    };
    assert.equal(seen.user.sub, USER);
    assert.equal(seen.user.preferred_username, USER);
    assert.equal(seen.idTokenClaims.iss, h.issuer);
    assert.equal(seen.idTokenClaims.aud, CLIENT_ID);
  });

  it('signs out at the bridge from the app and lands on its signed-out page', async () => {
    const { toBridge, back } = await confirmSignOut(h, browser, `${base}/logout`);
    const endSession = new URL(last(toBridge).url);
    assert.ok(endSession.searchParams.get('id_token_hint'), 'the app names its ID token');
    const page = last(back);
    assert.equal(page.url, `${base}/signed-out`);
    assert.equal(page.body, 'Signed out');
    await assertSignedOutEverywhere(h, browser, `${base}/profile`);
  });
});
