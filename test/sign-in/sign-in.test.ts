/**
 * The sign-in, end to end over real HTTP: openid-client as the relying party, a scripted
 * browser, the bridge, and the NoPass simulator approving or refusing through its control API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser, last } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startHarness,
  type AuthRequest,
  type Harness,
} from '../helpers/harness.ts';

/** Browser → /auth → user id form → picture page; returns the interaction's base URL. */
async function reachPicture(
  h: Harness,
  browser: Browser,
  userId: string,
  extra: Record<string, string> = {},
): Promise<{ request: AuthRequest; interaction: string; picture: string }> {
  const request = await authorizationRequest(h.rp, extra);
  const hops = await browser.follow(request.url.href);
  const form = last(hops);
  assert.equal(form.status, 200, 'the user id form is shown');
  const interaction = form.url;
  assert.match(interaction, /\/interaction\/[\w-]+$/);
  const submitted = await browser.post(`${interaction}/login`, { userId });
  assert.equal(submitted.status, 303, submitted.body);
  assert.equal(submitted.location, `${interaction}/picture`);
  const picture = await browser.get(`${interaction}/picture`);
  assert.equal(picture.status, 200);
  return { request, interaction, picture: picture.body };
}

/** Waits (bounded) until the simulator has received CloseAuthSession for `authId`. */
async function closedAtNoPass(h: Harness, authId: string): Promise<void> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const calls = (await (await fetch(`${h.simulatorUrl}/control/calls`)).json()) as {
      direction: string;
      op: string;
      body?: { authId?: string };
    }[];
    const closed = calls.some(
      (call) =>
        call.direction === 'received' &&
        call.op === 'CloseAuthSession' &&
        call.body?.authId === authId,
    );
    if (closed) return;
    if (Date.now() > deadline) assert.fail(`CloseAuthSession for ${authId} never arrived`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let users = 0;
/** A user id the simulator knows, fresh for each test so leftovers never mix in. */
async function newUser(h: Harness): Promise<string> {
  users += 1;
  const userId = `user-${users}`;
  const added = await h.control('/control/users', { userId });
  assert.equal(added.status, 200);
  return userId;
}

function pictureOf(html: string): string | undefined {
  return /src="(data:image\/png;base64,[A-Za-z0-9+/=]+)"/.exec(html)?.[1];
}

async function onlyAuth(h: Harness, userId: string): Promise<string> {
  const auths = await h.auths(userId);
  assert.equal(auths.length, 1, 'exactly one pending authentication at the simulator');
  return auths[0]!.authId;
}

/** Follows the browser from the picture page to the relying party's redirect URI. */
async function toRelyingParty(browser: Browser, interaction: string): Promise<URL> {
  const hops = await browser.follow(`${interaction}/picture`, RP_REDIRECT);
  const final = last(hops);
  assert.ok(final.location?.startsWith(RP_REDIRECT), `ends at the RP, got ${final.status}`);
  return new URL(final.location!);
}

describe('sign-in', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());

  it('signs a user in end to end and the RP verifies the ID token', async () => {
    const browser = new Browser();
    const { request, interaction, picture } = await reachPicture(h, browser, 'demo');
    assert.ok(pictureOf(picture), 'the picture page shows the PNG as a data URL');
    assert.match(picture, /The picture changes in/);

    const authId = await onlyAuth(h, 'demo');
    const approved = await h.control(`/control/auths/${authId}/approve`);
    assert.equal(approved.status, 200);
    assert.equal(((await approved.json()) as { portalStatus: number }).portalStatus, 200);

    const callback = await toRelyingParty(browser, interaction);
    assert.equal(callback.searchParams.get('iss'), h.issuer, 'iss in the authorization response');
    assert.equal(callback.searchParams.get('state'), request.state);

    const tokens = await oidc.authorizationCodeGrant(h.rp, callback, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    const claims = tokens.claims();
    assert.ok(claims);
    assert.equal(claims.sub, 'demo');
    assert.equal(claims.iss, h.issuer);
    assert.equal(claims.aud, 'test-rp');
    assert.equal(claims.nonce, request.nonce);
    assert.equal(claims.preferred_username, 'demo');

    const userinfo = await oidc.fetchUserInfo(h.rp, tokens.access_token, 'demo');
    assert.equal(userinfo.sub, 'demo');

    const user = await h.bridge.store.getUser('demo');
    assert.ok(user, 'the bridge recorded the user on first sign-in');
    assert.equal(user.firstSignInAt, user.lastSignInAt);
  });

  it('skips the user id form when the RP sends login_hint', async () => {
    const userId = await newUser(h);
    const browser = new Browser();
    const request = await authorizationRequest(h.rp, { login_hint: userId });
    const hops = await browser.follow(request.url.href);
    const final = last(hops);
    assert.equal(final.status, 200);
    assert.match(final.url, /\/picture$/);
    assert.ok(pictureOf(final.body));
    const authId = await onlyAuth(h, userId);
    await h.control(`/control/auths/${authId}/refuse`, { reason: 'cleanup' });
  });

  it('shows a refusal reason as plain text with a way to try again', async () => {
    const userId = await newUser(h);
    const browser = new Browser();
    const { interaction } = await reachPicture(h, browser, userId);
    const authId = await onlyAuth(h, userId);
    await h.control(`/control/auths/${authId}/refuse`, { reason: '<b>Not me</b>' });

    const page = await browser.get(`${interaction}/picture`);
    assert.equal(page.status, 200);
    assert.match(page.body, /Sign-in refused/);
    assert.match(page.body, /&lt;b&gt;Not me&lt;\/b&gt;/, 'the reason is escaped text');
    assert.doesNotMatch(page.body, /<b>Not me<\/b>/);
    assert.match(page.body, /Try again/);

    // Trying again starts a fresh NoPass authentication that can succeed.
    const again = await browser.post(`${interaction}/login`, { userId });
    assert.equal(again.status, 303);
    const fresh = (await h.auths(userId)).filter((auth) => auth.authId !== authId);
    assert.equal(fresh.length, 1);
    await h.control(`/control/auths/${fresh[0]!.authId}/approve`);
    await toRelyingParty(browser, interaction);
  });

  it('returns access_denied with state and iss when the user cancels', async () => {
    const userId = await newUser(h);
    const browser = new Browser();
    const { request, interaction } = await reachPicture(h, browser, userId);
    const authId = await onlyAuth(h, userId);
    const cancelled = await browser.post(`${interaction}/cancel`, {});
    assert.equal(cancelled.status, 303);
    const hops = await browser.follow(cancelled.location!, RP_REDIRECT);
    const callback = new URL(last(hops).location!);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('state'), request.state);
    assert.equal(callback.searchParams.get('iss'), h.issuer);
    await closedAtNoPass(h, authId);
    assert.deepEqual(await h.auths(userId), [], 'nothing left waiting on the phone');
  });

  it('closes the NoPass session of an attempt replaced by a new one', async () => {
    const userId = await newUser(h);
    const browser = new Browser();
    const { interaction } = await reachPicture(h, browser, userId);
    const first = await onlyAuth(h, userId);
    const again = await browser.post(`${interaction}/login`, { userId });
    assert.equal(again.status, 303);
    await closedAtNoPass(h, first);
    const second = await onlyAuth(h, userId);
    assert.notEqual(second, first);
    await h.control(`/control/auths/${second}/refuse`);
  });

  it('without JavaScript, a reload shows the newest picture and then carries on', async () => {
    const userId = await newUser(h);
    const browser = new Browser();
    const { interaction, picture } = await reachPicture(h, browser, userId);
    assert.match(picture, /http-equiv="refresh"/, 'the page reloads itself without script');
    const authId = await onlyAuth(h, userId);

    const rotated = await h.control(`/control/auths/${authId}/picture`);
    assert.equal(((await rotated.json()) as { portalStatus: number }).portalStatus, 200);
    const reloaded = await browser.get(`${interaction}/picture`);
    assert.ok(pictureOf(reloaded.body));
    assert.notEqual(pictureOf(reloaded.body), pictureOf(picture), 'the new picture is shown');

    await h.control(`/control/auths/${authId}/approve`);
    const afterApproval = await browser.get(`${interaction}/picture`);
    assert.equal(afterApproval.status, 303, 'an approved picture page redirects onwards');
    await toRelyingParty(browser, interaction);
  });

  it('binds the approval to the browser that started it, and uses it once', async () => {
    const userId = await newUser(h);
    const browser = new Browser();
    const { interaction } = await reachPicture(h, browser, userId);
    const authId = await onlyAuth(h, userId);
    await h.control(`/control/auths/${authId}/approve`);

    const stranger = new Browser();
    const stolen = await stranger.get(`${interaction}/complete`);
    assert.equal(stolen.status, 400, 'another browser cannot finish this sign-in');
    assert.match(stolen.body, /started in another browser/);

    const first = await browser.get(`${interaction}/complete`);
    assert.equal(first.status, 303);
    const second = await browser.get(`${interaction}/complete`);
    assert.notEqual(second.status, 303, 'the approval is used once');
    assert.match(second.body, /already been used|no longer in progress|expired/);
  });

  it('says in plain words when NoPass does not know the user id', async () => {
    const browser = new Browser();
    const request = await authorizationRequest(h.rp);
    const form = last(await browser.follow(request.url.href));
    const answer = await browser.post(`${form.url}/login`, { userId: 'nobody-here' });
    assert.equal(answer.status, 400);
    assert.match(answer.body, /NoPass could not start a sign-in for this user id/);
    assert.match(answer.body, /name="userId"/, 'the form is offered again');
  });

  it('rejects an empty or over-long user id with the form and a reason', async () => {
    const browser = new Browser();
    const request = await authorizationRequest(h.rp);
    const form = last(await browser.follow(request.url.href));
    const empty = await browser.post(`${form.url}/login`, { userId: '  ' });
    assert.equal(empty.status, 400);
    assert.match(empty.body, /Please enter your user id/);
    const long = await browser.post(`${form.url}/login`, { userId: 'x'.repeat(37) });
    assert.equal(long.status, 400);
    assert.match(long.body, /at most 36 characters/);
  });

  it('shows a try-again page when the NoPass server fails, and keeps serving', async () => {
    const userId = await newUser(h);
    const browser = new Browser();
    const request = await authorizationRequest(h.rp);
    const form = last(await browser.follow(request.url.href));
    for (const fault of [
      { failNext: 1 },
      { malformedNext: 'html' },
      { malformedNext: 'truncated' },
    ]) {
      await h.control('/control/faults', fault);
      const answer = await browser.post(`${form.url}/login`, { userId });
      assert.equal(answer.status, 503, JSON.stringify(fault));
      assert.match(answer.body, /not answering right now/);
      assert.match(answer.body, /name="userId"/);
    }
    await h.control('/control/faults', undefined, 'DELETE');
    const health = await fetch(`${h.issuer}/healthz`);
    assert.equal(health.status, 200);
  });

  it('streams the current state first, then new pictures and the verdict', async () => {
    const userId = await newUser(h);
    const browser = new Browser();
    const { interaction } = await reachPicture(h, browser, userId);
    const authId = await onlyAuth(h, userId);
    const cookie = await browser.jar.getCookieString(`${interaction}/events`);
    const response = await fetch(`${interaction}/events`, { headers: { cookie } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);

    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const states: { status: string; pictureSeq: number; next?: string }[] = [];
    let buffer = '';
    const nextState = async () => {
      for (;;) {
        const match = /event: state\ndata: (.*)\n\n/.exec(buffer);
        if (match) {
          buffer = buffer.slice(match.index + match[0].length);
          const state = JSON.parse(match[1]!) as (typeof states)[number];
          states.push(state);
          return state;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += value;
      }
    };

    const first = await nextState();
    assert.equal(first.status, 'waiting');
    assert.equal(first.pictureSeq, 1);
    await h.control(`/control/auths/${authId}/picture`);
    const second = await nextState();
    assert.equal(second.pictureSeq, 2, 'the new picture arrives on the stream');
    await h.control(`/control/auths/${authId}/approve`);
    const verdict = await nextState();
    assert.equal(verdict.status, 'approved');
    assert.equal(verdict.next, `${new URL(interaction).pathname}/complete`);
    await reader.cancel();

    // A listener that connects after the verdict is told at once.
    const late = await fetch(`${interaction}/events`, { headers: { cookie } });
    assert.match(await late.text(), /"status":"approved"/);
    await toRelyingParty(browser, interaction);
  });

  it('publishes discovery with RS256 and the iss response parameter', async () => {
    const response = await fetch(`${h.issuer}/.well-known/openid-configuration`);
    const metadata = (await response.json()) as Record<string, unknown>;
    assert.equal(metadata.issuer, h.issuer);
    assert.ok((metadata.id_token_signing_alg_values_supported as string[]).includes('RS256'));
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    const jwks = (await (await fetch(String(metadata.jwks_uri))).json()) as {
      keys: { kty: string; d?: string }[];
    };
    assert.ok(jwks.keys.some((key) => key.kty === 'RSA'));
    assert.ok(
      jwks.keys.every((key) => key.d === undefined),
      'no private key material is public',
    );
  });
});

describe('sign-in when a picture expires', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      simulator: { nextChangeMs: 300, maxPictures: 1 },
      env: { PICTURE_GRACE_MS: '200' },
    });
  });
  after(() => h.stop());

  it('says the picture expired and offers to try again', async () => {
    const browser = new Browser();
    const { interaction } = await reachPicture(h, browser, 'demo');
    await new Promise((resolve) => setTimeout(resolve, 700));
    const page = await browser.get(`${interaction}/picture`);
    assert.equal(page.status, 200);
    assert.match(page.body, /The picture expired/);
    assert.match(page.body, /Try again/);
    const listed = await fetch(`${h.simulatorUrl}/control/auths?userId=demo`);
    const [auth] = (await listed.json()) as { authId: string; status: string }[];
    assert.ok(auth, 'the simulator has the authentication');
    assert.equal(auth.status, 'stopped', 'the simulator stopped sending pictures');
    const late = await h.control(`/control/auths/${auth.authId}/approve`);
    assert.equal(
      ((await late.json()) as { portalStatus: number }).portalStatus,
      400,
      'a verdict after expiry is refused by the bridge',
    );
    const complete = await browser.get(`${interaction}/complete`);
    assert.equal(complete.status, 303);
    assert.match(complete.location ?? '', /\/picture$/, 'an expired sign-in never completes');
  });
});

describe('sign-in before the portal is registered', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ unregistered: true });
  });
  after(() => h.stop());

  it('tells the user sign-in is not available yet, and /readyz says why', async () => {
    const browser = new Browser();
    const request = await authorizationRequest(h.rp);
    const form = last(await browser.follow(request.url.href));
    const answer = await browser.post(`${form.url}/login`, { userId: 'demo' });
    assert.equal(answer.status, 503);
    assert.match(answer.body, /not finished registering with NoPass/);
    const ready = await fetch(`${h.issuer}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /portal not registered/);
  });
});

describe('sign-out', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());

  it('asks for confirmation and returns to the registered post-logout URI with state', async () => {
    const browser = new Browser();
    const { request, interaction } = await reachPicture(h, browser, 'demo');
    await h.control(`/control/auths/${await onlyAuth(h, 'demo')}/approve`);
    const callback = await toRelyingParty(browser, interaction);
    const tokens = await oidc.authorizationCodeGrant(h.rp, callback, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });

    const logout = oidc.buildEndSessionUrl(h.rp, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'http://127.0.0.1:65001/after-logout',
      state: 'bye-123',
    });
    const confirm = await browser.get(logout.href);
    assert.equal(confirm.status, 200);
    assert.match(confirm.body, /Sign out\?/);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)?.[1];
    const action = /<form[^>]*action="([^"]+)"/.exec(confirm.body)?.[1];
    assert.ok(xsrf && action, 'the confirmation carries the provider form');
    const done = await browser.post(new URL(action, h.issuer).href, { xsrf, logout: 'yes' });
    assert.equal(done.status, 303);
    const back = new URL(done.location!);
    assert.equal(back.origin + back.pathname, 'http://127.0.0.1:65001/after-logout');
    assert.equal(back.searchParams.get('state'), 'bye-123');
  });
});
