/**
 * Interop: a Flask application with Authlib (Debian's packages, Debian's Python), in its own
 * process, signs a user in through the bridge's pages and signs out at the bridge again.
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

// Debian's interpreter, which has python3-flask and python3-authlib, whatever else is on PATH.
const PYTHON = process.env.INTEROP_PYTHON ?? '/usr/bin/python3';
const USER = 'ada.flask';
const CLIENT_ID = 'flask-app';
const CLIENT_SECRET = 'flask-app-secret-at-least-32-characters';

describe('interop: Flask with Authlib', () => {
  let h: Harness;
  let rp: RelyingPartyProcess;
  let base: string;
  const browser = new NavigatingBrowser();

  before(async () => {
    const port = await freePort();
    base = `http://${RP_HOST}:${port}`;
    h = await startBridge(
      [webClient(CLIENT_ID, CLIENT_SECRET, 'Flask app', `${base}/callback`, `${base}/signed-out`)],
      USER,
    );
    rp = await startRelyingParty({
      name: 'flask',
      command: PYTHON,
      args: [
        '-m',
        'flask',
        '--app',
        'flask_authlib',
        'run',
        '--host',
        RP_HOST,
        '--port',
        `${port}`,
      ],
      cwd: join(import.meta.dirname, 'apps'),
      env: {
        // Nothing written next to the test sources.
        PYTHONDONTWRITEBYTECODE: '1',
        FLASK_SECRET_KEY: 'flask-app-session-secret-0123456789',
        FLASK_NOPASS_CLIENT_ID: CLIENT_ID,
        FLASK_NOPASS_CLIENT_SECRET: CLIENT_SECRET,
        FLASK_NOPASS_SERVER_METADATA_URL: `${h.issuer}/.well-known/openid-configuration`,
      },
      readyUrl: `${base}/signed-out`,
    });
  });
  after(async () => {
    await rp?.stop();
    await h?.stop();
  });

  it('signs in through the picture page and the app sees the NoPass user id', async () => {
    const { toBridge, back } = await signIn(h, browser, `${base}/`, USER);
    const params = authorizationParams(toBridge, h.issuer);
    assert.equal(params.get('client_id'), CLIENT_ID);
    assert.equal(params.get('scope'), 'openid profile');
    assert.ok(params.get('nonce'), 'Authlib sends a nonce');

    const page = last(back);
    assert.equal(page.status, 200, `${rp.output()}\n${page.body}`);
    assert.equal(page.url, `${base}/`);
    const seen = JSON.parse(page.body) as Record<string, unknown>;
    assert.equal(seen.sub, USER);
    assert.equal(seen.preferred_username, USER);
    assert.equal(seen.iss, h.issuer);
    assert.equal(seen.aud, CLIENT_ID);
  });

  it('signs out at the bridge from the app and lands on its signed-out page', async () => {
    const { toBridge, back } = await confirmSignOut(h, browser, `${base}/logout`);
    const endSession = new URL(last(toBridge).url);
    assert.ok(endSession.searchParams.get('id_token_hint'), 'the app names its ID token');
    const page = last(back);
    assert.equal(page.url, `${base}/signed-out`);
    assert.equal(page.body, 'Signed out');
    await assertSignedOutEverywhere(h, browser, `${base}/`);
  });
});
