/**
 * Interop: Apache httpd with mod_auth_openidc (Debian's packages), in its own process with the
 * configuration in apps/apache/, protects a CGI program; a user signs in through the bridge's
 * pages, the program sees the claims, and mod_auth_openidc's logout signs out at the bridge.
 */
import assert from 'node:assert/strict';
import { chmod, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { last } from '../helpers/browser.ts';
import type { Harness } from '../helpers/harness.ts';
import {
  assertSignedOutEverywhere,
  authorizationParams,
  confirmSignOut,
  parseLines,
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

const APACHE = process.env.APACHE_PATH ?? '/usr/sbin/apache2';
const USER = 'ada.apache';
const CLIENT_ID = 'apache-app';
const CLIENT_SECRET = 'apache-app-secret-at-least-32-characters';

describe('interop: Apache mod_auth_openidc', () => {
  let h: Harness;
  let rp: RelyingPartyProcess;
  let base: string;
  let dir: string;
  const browser = new NavigatingBrowser();

  before(async () => {
    const port = await freePort();
    base = `http://${RP_HOST}:${port}`;
    h = await startBridge(
      [
        webClient(
          CLIENT_ID,
          CLIENT_SECRET,
          'Apache site',
          `${base}/protected/redirect_uri`,
          `${base}/signed-out.html`,
        ),
      ],
      USER,
    );

    // Apache's workers run as www-data when started as root: they must be able to read the
    // site and run the CGI program, so the copy is world-readable.
    dir = await mkdtemp(join(tmpdir(), 'interop-apache-'));
    await cp(join(import.meta.dirname, 'apps', 'apache'), dir, { recursive: true });
    await chmod(dir, 0o755);
    const root = process.getuid?.() === 0;
    rp = await startRelyingParty({
      name: 'apache2',
      command: APACHE,
      args: ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'],
      env: {
        RP_HOST,
        RP_PORT: String(port),
        RP_DIR: dir,
        RUN_USER: root ? 'www-data' : userInfo().username,
        NOPASS_ISSUER: h.issuer,
        OIDC_CLIENT_ID: CLIENT_ID,
        OIDC_CLIENT_SECRET: CLIENT_SECRET,
        OIDC_CRYPTO_PASSPHRASE: 'apache-cookie-passphrase-0123456789',
      },
      readyUrl: `${base}/signed-out.html`,
    });
  });
  after(async () => {
    await rp?.stop();
    await h?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('signs in through the picture page and the CGI program sees the claims', async () => {
    const { toBridge, back } = await signIn(h, browser, `${base}/protected/claims`, USER);
    const params = authorizationParams(toBridge, h.issuer);
    assert.equal(params.get('client_id'), CLIENT_ID);
    assert.equal(params.get('scope'), 'openid profile');
    assert.equal(params.get('code_challenge_method'), 'S256');

    const page = last(back);
    assert.equal(page.status, 200, `${rp.output()}\n${page.body}`);
    assert.equal(page.url, `${base}/protected/claims`);
    const seen = parseLines(page.body);
    assert.equal(seen.get('REMOTE_USER'), USER);
    assert.equal(seen.get('OIDC_CLAIM_sub'), USER);
    assert.equal(seen.get('OIDC_CLAIM_preferred_username'), USER);
    assert.equal(seen.get('OIDC_CLAIM_iss'), h.issuer);
    assert.equal(seen.get('OIDC_CLAIM_aud'), CLIENT_ID);
  });

  it('signs out at the bridge through the logout URL and lands on the signed-out page', async () => {
    const returnTo = `${base}/signed-out.html`;
    const logout = `${base}/protected/redirect_uri?logout=${encodeURIComponent(returnTo)}`;
    const { toBridge, back } = await confirmSignOut(h, browser, logout);
    const endSession = new URL(last(toBridge).url);
    assert.ok(endSession.searchParams.get('id_token_hint'), 'Apache names its ID token');
    const page = last(back);
    assert.equal(page.url, returnTo);
    assert.equal(page.status, 200);
    assert.match(page.body, /Signed out/);
    await assertSignedOutEverywhere(h, browser, `${base}/protected/claims`);
  });
});
