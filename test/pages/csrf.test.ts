/**
 * Anti-forgery tokens on the hosted forms. A form sent without its page's token, with a token
 * that was never issued, or with the token of another sign-in is refused with a 403 (a page
 * with a way back to the start of the sign-in, or JSON for a machine), and nothing happens:
 * NoPass is not asked and the sign-in carries on afterwards. With the page's own token every
 * form goes through. The module is also checked on its own, the way another page family (with
 * its own cookie path and session) uses it.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import { createCsrf } from '../../src/http/csrf.ts';
import { errorHandler } from '../../src/http/error-handler.ts';
import { createViews } from '../../src/http/views.ts';
import { createLogger } from '../../src/log.ts';
import { Browser, last, type Hop } from '../helpers/browser.ts';
import {
  approveAs,
  authorize,
  errorAtRelyingParty,
  newUser,
  redeem,
  relyingParty,
  type TestClient,
} from '../helpers/flows.ts';
import { RP_CLIENT, RP_REDIRECT, startHarness, type Harness } from '../helpers/harness.ts';

const PARTNER: TestClient = {
  client_id: 'csrf-partner',
  client_secret: 'csrf-partner-secret-that-is-long-enough',
  client_name: 'Partner',
  redirect_uris: ['http://127.0.0.1:65031/callback'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};
const PARTNER_REDIRECT = PARTNER.redirect_uris[0]!;

const REFUSED = /did not come from this site/;

interface Call {
  direction: string;
  op: string;
  body: Record<string, unknown> | null;
}

async function received(h: Harness, op: string): Promise<Call[]> {
  const calls = (await (await fetch(`${h.simulatorUrl}/control/calls`)).json()) as Call[];
  return calls.filter((call) => call.direction === 'received' && call.op === op);
}

/** Sends `body` as a form, exactly as given, with the browser's cookies. */
function sendRaw(browser: Browser, url: string, body: string, accept = 'text/html') {
  return browser.request(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept },
  });
}

/** The refusal page: 403, the bridge's message, and a link back to the sign-in's start. */
function assertRefused(hop: Hop, interaction: string): void {
  assert.equal(hop.status, 403, hop.body);
  assert.match(hop.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(hop.body, REFUSED);
  assert.match(hop.body, /csrf_token_invalid/);
  assert.match(hop.body, /<h1>The form was not accepted<\/h1>/);
  assert.ok(
    hop.body.includes(`href="${new URL(interaction).pathname}"`),
    'the page links back to the start of the sign-in',
  );
}

describe('anti-forgery tokens on the sign-in forms', { timeout: 60_000 }, () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({ clients: [RP_CLIENT, PARTNER], keepLogs: true });
  });
  after(() => h.stop());

  it('refuses a forged user id form, changes nothing, and the sign-in works after', async () => {
    const userId = await newUser(h, 'forged');
    const browser = new Browser();
    const started = await authorize(browser, h.rp, RP_REDIRECT);
    const interaction = started.hop.url;
    const before = (await received(h, 'RequestAuthorization')).length;

    const forged = await browser.forge(`${interaction}/login`, { userId });
    assertRefused(forged, interaction);
    assert.equal(
      forged.headers.get('content-security-policy'),
      started.hop.headers.get('content-security-policy'),
      'the refusal page keeps the same policy',
    );
    assert.equal((await received(h, 'RequestAuthorization')).length, before, 'NoPass not asked');
    assert.deepEqual(await h.auths(userId), []);

    // The way forward: the start of the sign-in, whose form then goes through.
    const again = await browser.get(interaction);
    assert.equal(again.status, 200);
    const { hop } = await approveAs(h, browser, { ...started, hop: again }, userId);
    const tokens = await redeem(started, hop);
    assert.equal(tokens.claims()?.sub, userId);
  });

  it('refuses every form without a good token, never with a 500', async () => {
    const userId = await newUser(h, 'badtoken');
    const browser = new Browser();
    const started = await authorize(browser, h.rp, RP_REDIRECT);
    const interaction = started.hop.url;
    await browser.get(`${interaction}/register`);
    const token = browser.tokenFor(`${interaction}/login`);
    assert.ok(token, 'the user id form carries a token');
    assert.equal(browser.tokenFor(`${interaction}/register`), token, 'one token per sign-in');
    const requested = (await received(h, 'RequestAuthorization')).length;
    const registered = (await received(h, 'PreRegisterUser')).length;

    const fields = `userId=${userId}&network=google&decision=allow&given_name=Ada`;
    const tokens: [string, string][] = [
      ['no token', ''],
      ['an empty token', '&_csrf='],
      ['a token that is not one', '&_csrf=nonsense'],
      ['a well-formed token never issued', `&_csrf=${'a'.repeat(64)}.${'b'.repeat(64)}`],
      ['the token twice', `&_csrf=${token}&_csrf=${token}`],
      ['a changed token', `&_csrf=${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`],
      ['a very long token', `&_csrf=${'x'.repeat(8000)}`],
    ];
    for (const action of ['login', 'cancel', 'social', 'consent', 'register']) {
      for (const [label, extra] of tokens) {
        const answer = await sendRaw(browser, `${interaction}/${action}`, fields + extra);
        assert.equal(answer.status, 403, `${action} with ${label}: ${answer.status}`);
        assert.match(answer.body, REFUSED);
      }
    }
    assert.equal((await received(h, 'RequestAuthorization')).length, requested, 'no sign-in');
    assert.equal((await received(h, 'PreRegisterUser')).length, registered, 'no registration');

    // The right token still cancels: the relying party hears access_denied.
    const cancelled = await browser.post(`${interaction}/cancel`, {});
    assert.equal(cancelled.status, 303, cancelled.body);
    const back = last(await browser.follow(cancelled.location!, RP_REDIRECT));
    assert.equal(errorAtRelyingParty(started, back).get('error'), 'access_denied');
  });

  it('refuses the token of another sign-in, even when it is planted in the cookie', async () => {
    const userId = await newUser(h, 'crossed');
    const browser = new Browser();
    const one = await authorize(browser, h.rp, RP_REDIRECT);
    const two = await authorize(browser, h.rp, RP_REDIRECT);
    const tokenOne = browser.tokenFor(`${one.hop.url}/login`);
    const tokenTwo = browser.tokenFor(`${two.hop.url}/login`);
    assert.ok(tokenOne && tokenTwo);
    assert.notEqual(tokenOne, tokenTwo, 'each sign-in has its own token');
    const before = (await received(h, 'RequestAuthorization')).length;

    const crossed = await browser.post(`${two.hop.url}/login`, { userId, _csrf: tokenOne });
    assertRefused(crossed, two.hop.url);

    // Both halves of the pair from the first sign-in: its token is bound to that sign-in.
    const pathTwo = new URL(two.hop.url).pathname;
    await browser.jar.setCookie(`nopass.csrf=${tokenOne}; Path=${pathTwo}`, two.hop.url);
    const planted = await browser.post(`${two.hop.url}/login`, { userId, _csrf: tokenOne });
    assertRefused(planted, two.hop.url);
    assert.equal((await received(h, 'RequestAuthorization')).length, before, 'NoPass not asked');

    // Reopened, the second sign-in's page issues a token of its own again, and goes through.
    const again = await browser.get(two.hop.url);
    assert.equal(again.status, 200);
    const { hop } = await approveAs(h, browser, { ...two, hop: again }, userId);
    assert.equal((await redeem(two, hop)).claims()?.sub, userId);
  });

  it('lets the consent form through with its token, and only then', async () => {
    const partner = await relyingParty(h, PARTNER);
    const userId = await newUser(h, 'consentcsrf');
    const browser = new Browser();
    const started = await authorize(browser, partner, PARTNER_REDIRECT);
    const { hop: consent } = await approveAs(h, browser, started, userId);
    assert.equal(consent.status, 200);
    assert.match(consent.body, /name="decision" value="allow"/);

    assertRefused(
      await browser.forge(`${consent.url}/consent`, { decision: 'allow' }),
      consent.url,
    );
    const allowed = await browser.post(`${consent.url}/consent`, { decision: 'allow' });
    assert.equal(allowed.status, 303, allowed.body);
    const back = last(await browser.follow(allowed.location!, PARTNER_REDIRECT));
    assert.equal((await redeem(started, back)).claims()?.sub, userId);
  });

  it('lets the registration form through with its token', async () => {
    const browser = new Browser();
    const started = await authorize(browser, h.rp, RP_REDIRECT);
    const form = await browser.get(`${started.hop.url}/register`);
    assert.equal(form.status, 200);
    assert.match(form.body, /name="_csrf"/);
    const userId = `csrf-reg-${process.pid % 1000}`;
    const sent = await browser.post(`${started.hop.url}/register`, {
      userId,
      email: 'ada@example.com',
    });
    assert.equal(sent.status, 303, sent.body);
    assert.ok(sent.location?.startsWith(`${h.simulatorUrl}/register/`), sent.location);
    const [pre] = (await received(h, 'PreRegisterUser')).slice(-1);
    assert.equal(pre?.body?.userId, userId);
  });

  it('answers a machine with JSON', async () => {
    const browser = new Browser();
    const started = await authorize(browser, h.rp, RP_REDIRECT);
    const answer = await sendRaw(
      browser,
      `${started.hop.url}/login`,
      'userId=someone',
      'application/json',
    );
    assert.equal(answer.status, 403);
    assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
    const body = JSON.parse(answer.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
    assert.equal(body.error, 'csrf_token_invalid');
    assert.match(String(body.error_description), REFUSED);
  });

  it('keeps the token in an HttpOnly, SameSite=Lax cookie of the sign-in, and out of logs', async () => {
    const browser = new Browser();
    const started = await authorize(browser, h.rp, RP_REDIRECT);
    const path = new URL(started.hop.url).pathname;
    const token = browser.tokenFor(`${started.hop.url}/login`);
    assert.ok(token);
    const cookie = started.hop.headers.getSetCookie().find((c) => c.startsWith('nopass.csrf='));
    assert.ok(cookie, 'the page sets the token cookie');
    const attributes = cookie.toLowerCase().split(/;\s*/);
    assert.equal(cookie.split(';')[0], `nopass.csrf=${token}`);
    assert.ok(attributes.includes(`path=${path.toLowerCase()}`), cookie);
    assert.ok(attributes.includes('httponly'), cookie);
    assert.ok(attributes.includes('samesite=lax'), cookie);
    assert.ok(!attributes.includes('secure'), 'an http issuer cannot keep a Secure cookie');

    await browser.forge(`${started.hop.url}/login`, { userId: 'x', _csrf: token.slice(2) });
    await browser.post(`${started.hop.url}/cancel`, {});
    const refusal = h.logs.find((line) => line.error_code === 'csrf_token_invalid');
    assert.ok(refusal, 'the refusal is logged');
    assert.equal(refusal.status, 403);
    const everything = JSON.stringify(h.logs);
    assert.ok(!everything.includes(token.split('.')[0]!), 'no token in any log line');
    assert.ok(!everything.includes(token.split('.')[1]!), 'no token in any log line');
  });
});

describe('createCsrf for another page family', () => {
  const KEY = 'account-key-that-is-long-enough-0001';
  const OTHER_KEY = 'account-key-that-is-long-enough-0002';
  const servers: { close(): void }[] = [];
  after(() => servers.forEach((server) => server.close()));

  /** A tiny /account page family whose session is the `session` cookie. */
  async function accountPages(keys: string[], secure = false): Promise<string> {
    const csrf = createCsrf({
      keys,
      cookieName: 'account.csrf',
      path: () => '/account',
      sessionIdentifier: (ctx) => ctx.cookies.get('session', { signed: false }) ?? '',
      secure,
      maxAgeMs: 60_000,
      backUrl: () => '/account',
    });
    const views = createViews({ quickstart: false, brand: {} });
    const app = new Koa();
    app.use(errorHandler(views, createLogger('silent')));
    const router = new Router({ prefix: '/account' });
    router.use(csrf.provide);
    router.get('/', (ctx) => {
      const locals = (ctx.state as { pageLocals: { csrfToken: () => string } }).pageLocals;
      ctx.body = locals.csrfToken();
    });
    router.post('/', bodyParser({ enableTypes: ['form'] }), csrf.verify, (ctx) => {
      ctx.body = 'changed';
    });
    app.use(router.routes());
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((resolve) => server.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/account`;
  }

  async function page(url: string, session: string) {
    const response = await fetch(url, { headers: { cookie: `session=${session}` } });
    const setCookie = response.headers.getSetCookie()[0] ?? '';
    return { token: await response.text(), setCookie };
  }

  function send(url: string, session: string, cookieToken: string, formToken: string) {
    return fetch(url, {
      method: 'POST',
      headers: {
        cookie: `session=${session}; account.csrf=${cookieToken}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'text/html',
      },
      body: new URLSearchParams({ _csrf: formToken }).toString(),
    });
  }

  it('scopes its cookie to its own path and binds the token to its own session', async () => {
    const url = await accountPages([KEY], true);
    const { token, setCookie } = await page(url, 'session-one');
    const attributes = setCookie.toLowerCase().split(/;\s*/);
    assert.equal(setCookie.split(';')[0], `account.csrf=${token}`);
    assert.ok(attributes.includes('path=/account'), setCookie);
    assert.ok(attributes.includes('secure'), 'Secure when the issuer is https');
    assert.ok(attributes.includes('httponly') && attributes.includes('samesite=lax'), setCookie);

    const accepted = await send(url, 'session-one', token, token);
    assert.equal(accepted.status, 200);
    assert.equal(await accepted.text(), 'changed');

    const otherSession = await send(url, 'session-two', token, token);
    assert.equal(otherSession.status, 403);
    const body = await otherSession.text();
    assert.match(body, REFUSED);
    assert.match(body, /href="\/account"/, 'the way forward belongs to the family');
  });

  it('accepts tokens of an older key while keys rotate, and no others', async () => {
    const before = await accountPages([OTHER_KEY]);
    const { token } = await page(before, 'session-one');
    const rotated = await accountPages([KEY, OTHER_KEY]);
    assert.equal((await send(rotated, 'session-one', token, token)).status, 200);
    const unrelated = await accountPages([KEY]);
    assert.equal((await send(unrelated, 'session-one', token, token)).status, 403);
  });
});
