/**
 * What a relying party's `prompt` and `max_age` do to a browser that is already signed in:
 * `prompt=login` and an exceeded `max_age` need a fresh NoPass approval, `prompt=none` never
 * shows a page (and says `login_required` when nobody is signed in).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Browser } from '../helpers/browser.ts';
import {
  approveAs,
  atRelyingParty,
  authorize,
  errorAtRelyingParty,
  eventually,
  newUser,
  redeem,
} from '../helpers/flows.ts';
import { RP_REDIRECT, startHarness, type Harness } from '../helpers/harness.ts';

const DAY = String(24 * 3600);

describe('prompts', { timeout: 60_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());

  /** A browser signed in as a new user, and the auth_time of its sign-in. */
  async function signedIn(): Promise<{ browser: Browser; userId: string; authTime: number }> {
    const userId = await newUser(h, 'prompt');
    const browser = new Browser();
    // A max_age, however long, has the ID token say when the person signed in (auth_time).
    const started = await authorize(browser, h.rp, RP_REDIRECT, { max_age: DAY });
    const tokens = await redeem(started, (await approveAs(h, browser, started, userId)).hop);
    const authTime = tokens.claims()?.auth_time;
    assert.equal(typeof authTime, 'number');
    return { browser, userId, authTime: authTime! };
  }

  it('signs a signed-in browser in silently without a prompt', async () => {
    const { browser } = await signedIn();
    const again = await authorize(browser, h.rp, RP_REDIRECT);
    assert.ok(atRelyingParty(again, again.hop), 'no page for a browser already signed in');
  });

  it('asks for the user id and a new NoPass approval with prompt=login', async () => {
    const { browser, userId, authTime } = await signedIn();
    await sleep(1100);
    const before = (await h.auths(userId)).length;
    const again = await authorize(browser, h.rp, RP_REDIRECT, { prompt: 'login', max_age: DAY });
    assert.equal(again.hop.status, 200);
    assert.match(again.hop.body, /name="userId"/, 'the user id form, despite the session');
    const { hop, authId } = await approveAs(h, browser, again, userId);
    assert.equal(before, 0, 'nothing was waiting before');
    assert.ok(authId, 'a new NoPass authentication was approved');
    const tokens = await redeem(again, hop);
    assert.ok(tokens.claims()!.auth_time! > authTime, 'auth_time is the new approval');
  });

  it('goes to the picture at once with prompt=login and login_hint', async () => {
    const { browser, userId } = await signedIn();
    const again = await authorize(browser, h.rp, RP_REDIRECT, {
      prompt: 'login',
      login_hint: userId,
    });
    assert.equal(again.hop.status, 200);
    assert.match(again.hop.url, /\/picture$/, 'straight to a new picture');
    assert.equal((await h.auths(userId)).length, 1, 'a new authentication waits for approval');
    const [auth] = await h.auths(userId);
    await h.control(`/control/auths/${auth!.authId}/refuse`, { reason: 'cleanup' });
  });

  it('asks again when the sign-in is older than max_age, and not before', async () => {
    const { browser, userId, authTime } = await signedIn();
    const young = await authorize(browser, h.rp, RP_REDIRECT, { max_age: '3600' });
    assert.ok(atRelyingParty(young, young.hop), 'a recent sign-in is enough');
    const tokens = await redeem(young, young.hop);
    assert.equal(tokens.claims()?.auth_time, authTime, 'auth_time tells the relying party');

    await sleep(1100);
    const old = await authorize(browser, h.rp, RP_REDIRECT, { max_age: '0' });
    assert.equal(old.hop.status, 200);
    assert.match(old.hop.body, /name="userId"/, 'too old: sign in again');
    const renewed = await redeem(old, (await approveAs(h, browser, old, userId)).hop);
    assert.ok(renewed.claims()!.auth_time! > authTime);
  });

  it('answers prompt=none without a session with login_required, and never a page', async () => {
    const browser = new Browser();
    const silent = await authorize(browser, h.rp, RP_REDIRECT, { prompt: 'none' });
    const error = errorAtRelyingParty(silent, silent.hop);
    assert.equal(error.get('error'), 'login_required');
    assert.equal(error.get('iss'), h.issuer);
  });

  it('answers prompt=none with a session with a code', async () => {
    const { browser, userId } = await signedIn();
    const silent = await authorize(browser, h.rp, RP_REDIRECT, { prompt: 'none' });
    const tokens = await redeem(silent, silent.hop);
    assert.equal(tokens.claims()?.sub, userId);
  });

  it('ends the first session when prompt=login signs in someone else', async () => {
    const { browser, userId } = await signedIn();
    const [first] = (await (
      await fetch(`${h.simulatorUrl}/control/auths?userId=${userId}`)
    ).json()) as { authId: string }[];
    const other = await newUser(h, 'other');
    const again = await authorize(browser, h.rp, RP_REDIRECT, { prompt: 'login' });
    const submitted = await browser.post(`${again.hop.url}/login`, { userId: other });
    assert.equal(submitted.status, 303);
    const [auth] = await h.auths(other);
    await h.control(`/control/auths/${auth!.authId}/approve`);

    // The bridge signs the first user out on the way (a self-submitting form), then in again.
    let hop = (await browser.follow(`${again.hop.url}/picture`, RP_REDIRECT)).at(-1)!;
    for (let step = 0; step < 3 && !atRelyingParty(again, hop); step += 1) {
      const action = /<form[^>]*action="([^"]+)"/.exec(hop.body)?.[1];
      const fields = Object.fromEntries(
        [...hop.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map(
          (match) => [match[1]!, match[2]!],
        ),
      );
      assert.ok(action, `a form to submit, got ${hop.status}`);
      const posted = await browser.post(new URL(action, h.issuer).href, fields);
      hop = (await browser.follow(posted.location!, RP_REDIRECT)).at(-1)!;
      if (posted.status !== 303) hop = posted;
    }
    const tokens = await redeem(again, hop);
    assert.equal(tokens.claims()?.sub, other);

    await eventually(async () => {
      const calls = (await (await fetch(`${h.simulatorUrl}/control/calls`)).json()) as {
        op: string;
        body: { authId?: string } | null;
      }[];
      assert.ok(
        calls.some((call) => call.op === 'CloseAuthSession' && call.body?.authId === first!.authId),
        "the first user's NoPass session was closed",
      );
    });
  });
});
