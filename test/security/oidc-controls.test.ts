/**
 * The OpenID Connect trust boundary as a relying party or an attacker meets it: discovery and
 * redirects built from the configured issuer whatever Host or forwarded headers say, redirect
 * URIs matched exactly, PKCE required of public clients, no implicit or hybrid flow unless the
 * clients file grants it, `iss` in error responses, the headers every page carries, cookies
 * flagged for a TLS-terminating proxy, and the bridge's own page for an unknown address.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBridge } from '../../src/app.ts';
import { createLogger } from '../../src/log.ts';
import { providerRoute } from '../../src/oidc/provider.ts';
import { readSettings } from '../../src/settings/index.ts';
import { RP_CLIENT, RP_REDIRECT, startHarness, type Harness } from '../helpers/harness.ts';

const PUBLIC_REDIRECT = 'http://127.0.0.1:65001/spa';
const PUBLIC_CLIENT = {
  client_id: 'public-spa',
  redirect_uris: [PUBLIC_REDIRECT],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  first_party: true,
};

const HYBRID_REDIRECT = 'https://rp.example.test/hybrid';
const HYBRID_CLIENT = {
  client_id: 'hybrid-rp',
  client_secret: 'hybrid-rp-secret-that-is-long-enough',
  redirect_uris: [HYBRID_REDIRECT],
  grant_types: ['authorization_code', 'implicit'],
  response_types: ['code id_token', 'code'],
  token_endpoint_auth_method: 'client_secret_basic',
  first_party: true,
};

function authUrl(h: Harness, params: Record<string, string>): string {
  const query = new URLSearchParams({ scope: 'openid', state: 'st-1', nonce: 'n-1', ...params });
  return `${h.issuer}/auth?${query.toString()}`;
}

/** The redirect an authorization request answers with, without following it. */
async function authorize(h: Harness, params: Record<string, string>): Promise<Response> {
  return fetch(authUrl(h, params), { redirect: 'manual', headers: { accept: 'text/html' } });
}

/** The parameters of a redirect to the relying party, from the query or the fragment. */
function responseParams(response: Response): URLSearchParams {
  const location = response.headers.get('location');
  assert.ok(location, `expected a redirect, got ${response.status}`);
  const url = new URL(location);
  return new URLSearchParams(url.hash ? url.hash.slice(1) : url.search);
}

const FORGED_HEADERS: Record<string, string>[] = [
  { host: 'evil.example' },
  { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
  { host: 'evil.example:8443', 'x-forwarded-host': 'evil2.example', forwarded: 'host=evil3' },
];

for (const trustProxy of [false, true]) {
  describe(`discovery and redirects with TRUST_PROXY=${trustProxy}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ env: { TRUST_PROXY: String(trustProxy) } });
    });
    after(() => h.stop());

    for (const headers of FORGED_HEADERS) {
      it(`publishes only the issuer's URLs with ${Object.keys(headers).join(', ')}`, async () => {
        const response = await fetch(`${h.issuer}/.well-known/openid-configuration`, {
          headers,
        });
        assert.equal(response.status, 200);
        const metadata = (await response.json()) as Record<string, unknown>;
        assert.equal(metadata.issuer, h.issuer, 'issuer byte for byte');
        const urls = Object.entries(metadata).filter(
          ([, value]) => typeof value === 'string' && /^https?:/.test(value),
        );
        assert.ok(urls.length >= 5, 'discovery lists its endpoints');
        for (const [name, value] of urls) {
          assert.ok(String(value).startsWith(`${h.issuer}/`) || value === h.issuer, name);
        }
        assert.doesNotMatch(JSON.stringify(metadata), /evil/);

        const start = await fetch(
          authUrl(h, {
            client_id: RP_CLIENT.client_id,
            response_type: 'code',
            redirect_uri: RP_REDIRECT,
          }),
          { redirect: 'manual', headers },
        );
        assert.equal(start.status, 303);
        const location = String(start.headers.get('location'));
        assert.ok(
          location.startsWith('/interaction/') || location.startsWith(`${h.issuer}/`),
          location,
        );
      });
    }
  });
}

describe('authorization requests a relying party could get wrong', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ clients: [RP_CLIENT, PUBLIC_CLIENT, HYBRID_CLIENT] });
  });
  after(() => h.stop());

  const wrongRedirects: [string, string][] = [
    ['a trailing slash', `${RP_REDIRECT}/`],
    ['an extra query', `${RP_REDIRECT}?next=/admin`],
    ['another port', 'http://127.0.0.1:65002/callback'],
    ['other letter case', RP_REDIRECT.replace('callback', 'Callback')],
    ['another host', 'http://evil.example/callback'],
  ];
  for (const [label, redirect] of wrongRedirects) {
    it(`refuses a redirect URI with ${label} and sends the browser nowhere`, async () => {
      const response = await authorize(h, {
        client_id: RP_CLIENT.client_id,
        response_type: 'code',
        redirect_uri: redirect,
      });
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('location'), null);
      assert.match(await response.text(), /redirect_uri/);
    });
  }

  it('requires PKCE of a public client, with iss in the error redirect', async () => {
    const response = await authorize(h, {
      client_id: PUBLIC_CLIENT.client_id,
      response_type: 'code',
      redirect_uri: PUBLIC_REDIRECT,
    });
    const params = responseParams(response);
    assert.equal(params.get('error'), 'invalid_request');
    assert.match(String(params.get('error_description')), /PKCE/);
    assert.equal(params.get('iss'), h.issuer);
    assert.equal(params.get('state'), 'st-1');
  });

  it('accepts the same public client with PKCE', async () => {
    const response = await authorize(h, {
      client_id: PUBLIC_CLIENT.client_id,
      response_type: 'code',
      redirect_uri: PUBLIC_REDIRECT,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    assert.equal(response.status, 303);
    assert.match(String(response.headers.get('location')), /^\/interaction\//);
  });

  for (const responseType of ['id_token', 'id_token token', 'code id_token', 'code token']) {
    it(`refuses response_type=${responseType} for a client registered for code only`, async () => {
      const response = await authorize(h, {
        client_id: RP_CLIENT.client_id,
        response_type: responseType,
        redirect_uri: RP_REDIRECT,
      });
      const params = responseParams(response);
      // Types the provider offers at all are refused for this client; the others everywhere.
      const refusal = `${params.get('error')}: ${params.get('error_description')}`;
      assert.match(
        refusal,
        /^(unsupported_response_type: |invalid_request: requested response_type is not allowed)/,
      );
      assert.equal(params.get('iss'), h.issuer);
      assert.equal(params.get('state'), 'st-1');
      assert.equal(params.get('code'), null);
      assert.equal(params.get('id_token'), null);
    });
  }

  it('lets a client whose entry grants a hybrid flow use it', async () => {
    const response = await authorize(h, {
      client_id: HYBRID_CLIENT.client_id,
      response_type: 'code id_token',
      redirect_uri: HYBRID_REDIRECT,
    });
    assert.equal(response.status, 303);
    assert.match(String(response.headers.get('location')), /^\/interaction\//);
  });

  it('puts iss into the error answering prompt=none without a session', async () => {
    const response = await authorize(h, {
      client_id: RP_CLIENT.client_id,
      response_type: 'code',
      redirect_uri: RP_REDIRECT,
      prompt: 'none',
    });
    const params = responseParams(response);
    assert.equal(params.get('error'), 'login_required');
    assert.equal(params.get('iss'), h.issuer);
  });
});

describe('headers, cookies and unknown addresses', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { TRUST_PROXY: 'true' } });
  });
  after(() => h.stop());

  const start = (headers: Record<string, string> = {}): Promise<Response> =>
    fetch(
      authUrl(h, {
        client_id: RP_CLIENT.client_id,
        response_type: 'code',
        redirect_uri: RP_REDIRECT,
      }),
      { redirect: 'manual', headers },
    );

  it('gives every page CSP, framing, referrer and sniffing headers', async () => {
    const location = String((await start()).headers.get('location'));
    for (const url of [`${h.issuer}/`, `${h.issuer}${location}`, `${h.issuer}/no-such-page`]) {
      const response = await fetch(url, { headers: { accept: 'text/html' } });
      const csp = String(response.headers.get('content-security-policy'));
      assert.match(csp, /frame-ancestors 'none'/, url);
      assert.match(csp, /script-src 'self'(;|$)/, url);
      assert.match(csp, /img-src 'self' data:(;|$)/, url);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', url);
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer', url);
    }
  });

  for (const path of ['/no-such-page', '/interaction/abc/unknown', '/static/missing.css', '/reg']) {
    it(`answers ${path} with the bridge's own page, or JSON for a machine`, async () => {
      const page = await fetch(`${h.issuer}${path}`, { headers: { accept: 'text/html' } });
      assert.equal(page.status, 404);
      assert.match(String(page.headers.get('content-type')), /text\/html/);
      const html = await page.text();
      assert.match(html, /There is no page here/);
      assert.match(html, /href="\/"/);

      const json = await fetch(`${h.issuer}${path}`, { headers: { accept: 'application/json' } });
      assert.equal(json.status, 404);
      assert.equal(((await json.json()) as { error: string }).error, 'not_found');
    });
  }

  const wrongMethods: [string, string, RegExp][] = [
    ['PATCH', '/healthz', /GET/],
    ['GET', '/token', /^POST, OPTIONS$/],
    ['PUT', '/.well-known/openid-configuration', /GET/],
    ['DELETE', '/me', /GET, POST/],
    // POST at these two would need the session cookie sent cross-site (SameSite=None).
    ['POST', '/auth', /^GET, HEAD$/],
    ['POST', '/session/end', /^GET, HEAD$/],
  ];
  for (const [method, path, allow] of wrongMethods) {
    it(`answers ${method} ${path} with 405 and the methods it takes`, async () => {
      const response = await fetch(`${h.issuer}${path}`, {
        method,
        headers: { accept: 'application/json' },
      });
      assert.equal(response.status, 405);
      assert.match(String(response.headers.get('allow')), allow);
      assert.equal(((await response.json()) as { error: string }).error, 'method_not_allowed');

      const page = await fetch(`${h.issuer}${path}`, { method, headers: { accept: 'text/html' } });
      assert.equal(page.status, 405);
      assert.match(await page.text(), /cannot be used this way/);
    });
  }

  it('hands every endpoint discovery advertises to the provider', async () => {
    const response = await fetch(`${h.issuer}/.well-known/openid-configuration`);
    const metadata = (await response.json()) as Record<string, unknown>;
    const endpoints = Object.entries(metadata).filter(
      ([name, value]) => /_(endpoint|uri)$/.test(name) && typeof value === 'string',
    );
    assert.ok(endpoints.length >= 6);
    for (const [name, value] of endpoints) {
      const { pathname } = new URL(String(value));
      const route =
        providerRoute(pathname, 'GET').handles || providerRoute(pathname, 'POST').handles;
      assert.ok(route, `${name} (${pathname}) is routed to the provider`);
    }
  });

  it('still lets a browser ask which methods an address takes', async () => {
    const response = await fetch(`${h.issuer}/healthz`, { method: 'OPTIONS' });
    assert.equal(response.status, 204);
    assert.match(String(response.headers.get('allow')), /GET/);
    const token = await fetch(`${h.issuer}/token`, { method: 'OPTIONS' });
    assert.equal(token.status, 204);
    assert.equal(token.headers.get('allow'), 'POST, OPTIONS');
    // A CORS preflight is the provider's to answer.
    const preflight = await fetch(`${h.issuer}/token`, {
      method: 'OPTIONS',
      headers: { origin: 'https://spa.example.test', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.status, 204);
    assert.match(String(preflight.headers.get('access-control-allow-methods')), /POST/);
  });
});

describe('behind a TLS-terminating proxy', () => {
  const issuer = 'https://id.example.test';
  let close: () => Promise<void>;
  let local: string;
  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bridge-tls-'));
    const clientsFile = join(dir, 'clients.json');
    await writeFile(clientsFile, JSON.stringify([RP_CLIENT]));
    const settings = readSettings(
      {
        ISSUER: issuer,
        TRUST_PROXY: 'true',
        NOPASS_SERVER_URL: 'http://127.0.0.1:9',
        NOPASS_ADMIN_ID: 'test-admin',
        NOPASS_S_CODE: 'TestSCode-1234',
        CLIENTS_FILE: clientsFile,
      },
      () => 'x',
    );
    const bridge = await createBridge({
      settings,
      log: createLogger('silent'),
      nopassServerUrl: 'http://127.0.0.1:9',
    });
    const { url } = await bridge.listen(0, '127.0.0.1');
    local = url;
    close = () => bridge.close();
  });
  after(() => close());

  it('marks every cookie Secure, HttpOnly and SameSite=Lax', async () => {
    const query = new URLSearchParams({
      client_id: RP_CLIENT.client_id,
      response_type: 'code',
      redirect_uri: RP_REDIRECT,
      scope: 'openid',
    });
    const response = await fetch(`${local}/auth?${query.toString()}`, {
      redirect: 'manual',
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' },
    });
    assert.equal(response.status, 303);
    const cookies = response.headers.getSetCookie();
    assert.ok(cookies.length > 0);
    for (const cookie of cookies) {
      assert.match(cookie, /; secure/i, cookie);
      assert.match(cookie, /; httponly/i, cookie);
      assert.match(cookie, /; samesite=lax/i, cookie);
    }
  });

  it('publishes https endpoints of the issuer even for a request the proxy got over http', async () => {
    const response = await fetch(`${local}/.well-known/openid-configuration`, {
      headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'evil.example' },
    });
    const metadata = (await response.json()) as Record<string, string>;
    assert.equal(metadata.issuer, issuer);
    assert.equal(metadata.authorization_endpoint, `${issuer}/auth`);
    assert.equal(metadata.token_endpoint, `${issuer}/token`);
  });
});
