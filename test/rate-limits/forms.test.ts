/**
 * The rate limits on the sign-in forms, over real HTTP with the simulator as NoPass: per client
 * address (X-Forwarded-For only with TRUST_PROXY), per user id from any address, a login_hint
 * counting like the form, the refusal a person and a program each see, its metric and log line,
 * the count starting again after the window, and 0 turning a limit off.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Browser, last, type Hop } from '../helpers/browser.ts';
import { authorizationRequest, startHarness, type Harness } from '../helpers/harness.ts';

let users = 0;
/** A user id the simulator knows, fresh for each call. */
async function newUser(h: Harness): Promise<string> {
  users += 1;
  const userId = `limited-${users}`;
  const added = await h.control('/control/users', { userId });
  assert.equal(added.status, 200);
  return userId;
}

/** A fresh browser on the user id form of a new sign-in; the interaction's URL. */
async function openForm(h: Harness): Promise<{ browser: Browser; interaction: string }> {
  const browser = new Browser();
  const request = await authorizationRequest(h.rp);
  const form = last(await browser.follow(request.url.href));
  assert.equal(form.status, 200, form.body);
  assert.match(form.url, /\/interaction\/[\w-]+$/);
  return { browser, interaction: form.url };
}

/** Sends a form as its page would (with its anti-forgery token), with extra headers. */
function send(
  browser: Browser,
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Hop> {
  const token = browser.csrfTokens.get(new URL(url).pathname);
  const body = new URLSearchParams(token === undefined ? form : { ...form, _csrf: token });
  return browser.request(url, {
    method: 'POST',
    body: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
}

/** A new sign-in's user id form sent with `userId`. */
async function signIn(
  h: Harness,
  userId: string,
  headers: Record<string, string> = {},
): Promise<Hop & { interaction: string }> {
  const { browser, interaction } = await openForm(h);
  return { ...(await send(browser, `${interaction}/login`, { userId }, headers)), interaction };
}

function retryAfter(hop: Hop): number {
  const value = hop.headers.get('retry-after') ?? '';
  assert.match(value, /^\d+$/, `Retry-After: ${value}`);
  return Number(value);
}

function assertRefusalPage(hop: Hop & { interaction: string }): void {
  assert.equal(hop.status, 429, hop.body);
  assert.match(hop.headers.get('content-type') ?? '', /^text\/html/);
  const wait = retryAfter(hop);
  assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
  assert.match(hop.body, /Too many attempts/);
  assert.ok(hop.body.includes(`Please wait ${wait} s, then try again.`), hop.body);
  const back = new URL(hop.interaction).pathname;
  assert.ok(hop.body.includes(`href="${back}"`), `a link back to ${back}`);
  assert.match(hop.body, /Back to the sign-in/);
}

/** The value of `nopass_bridge_rate_limited_total{limit}` at /metrics (0 when absent). */
async function refusals(h: Harness, limit: string): Promise<number> {
  const text = await (await fetch(`${h.issuer}/metrics`)).text();
  const line = text
    .split('\n')
    .find((entry) => entry.startsWith(`nopass_bridge_rate_limited_total{limit="${limit}"} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

describe('per client address', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      keepLogs: true,
      env: { RATE_LIMIT_SIGNIN_PER_IP: '2', NOPASS_SOCIAL: 'google' },
    });
  });
  after(() => h.stop());

  // The first test uses up the address's two attempts; the others run within the same window.

  it('refuses the third form from one address with 429, ignoring X-Forwarded-For', async () => {
    const [first, second, third] = [await newUser(h), await newUser(h), await newUser(h)];
    assert.equal((await signIn(h, first)).status, 303);
    // Without TRUST_PROXY a forwarded address is anyone's to write: every form counts as
    // the connection's address.
    assert.equal((await signIn(h, second, { 'x-forwarded-for': '203.0.113.7' })).status, 303);
    const refused = await signIn(h, third, { 'x-forwarded-for': '198.51.100.9' });
    assertRefusalPage(refused);
    assert.ok(!refused.body.includes(third), 'the page does not repeat the user id');

    assert.deepEqual(await h.auths(third), [], 'NoPass was not asked');
    assert.equal((await h.auths(first)).length, 1);
    assert.equal((await h.auths(second)).length, 1);
    assert.equal(await refusals(h, 'signin_ip'), 1);
  });

  it('logs the refusal with hashes, never the address or the user id', async () => {
    const userId = await newUser(h);
    assert.equal((await signIn(h, userId)).status, 429);
    const line = h.logs.findLast((entry) => entry.msg === 'rate limit reached');
    assert.ok(line, 'a "rate limit reached" line');
    assert.equal(line.rate_limit, 'signin_ip');
    assert.equal(typeof line.client_ref, 'string');
    assert.equal(typeof line.retry_after_s, 'number');
    assert.equal(typeof line.request_id, 'string');
    const text = JSON.stringify(line);
    assert.ok(!text.includes('127.0.0.1') && !text.includes(userId), text);
  });

  it('answers a program asking for JSON with rate_limited', async () => {
    const userId = await newUser(h);
    const refused = await signIn(h, userId, { accept: 'application/json' });
    assert.equal(refused.status, 429);
    retryAfter(refused);
    const body = JSON.parse(refused.body) as Record<string, unknown>;
    assert.equal(body.error, 'rate_limited');
    assert.equal(typeof body.error_description, 'string');
    assert.deepEqual(await h.auths(userId), []);
  });

  it('counts a sign-in started by login_hint like the form', async () => {
    const userId = await newUser(h);
    const browser = new Browser();
    const request = await authorizationRequest(h.rp, { login_hint: userId });
    const hop = last(await browser.follow(request.url.href));
    assertRefusalPage({ ...hop, interaction: hop.url });
    assert.deepEqual(await h.auths(userId), []);
  });

  it('counts the social and registration forms too', async () => {
    const { browser, interaction } = await openForm(h);
    const social = await send(browser, `${interaction}/social`, { network: 'google' });
    assert.equal(social.status, 429);
    const registration = await browser.get(`${interaction}/register`);
    assert.equal(registration.status, 200, 'the registration form itself is shown');
    const registered = await send(browser, `${interaction}/register`, { userId: 'newcomer' });
    assert.equal(registered.status, 429);
    assert.equal(await h.bridge.store.getUser('newcomer'), undefined);
  });
});

describe('per user id behind a trusted proxy', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      env: { TRUST_PROXY: 'true', RATE_LIMIT_SIGNIN_PER_IP: '2', RATE_LIMIT_SIGNIN_PER_USER: '3' },
    });
  });
  after(() => h.stop());

  let address = 0;
  /** A forwarded address not used before. */
  const fresh = (): Record<string, string> => {
    address += 1;
    return { 'x-forwarded-for': `203.0.113.${address}` };
  };

  it("refuses a fourth request for one person's phone from a fourth address", async () => {
    const victim = await newUser(h);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      // Each from its own address: the per-address limit of 2 is never reached.
      const hop = await signIn(h, victim, fresh());
      assert.equal(hop.status, 303, hop.body);
    }
    // Another spelling of the same user id counts with it.
    assertRefusalPage(await signIn(h, victim.toUpperCase(), fresh()));
    assert.equal((await h.auths(victim)).length, 3, 'three requests reached NoPass, no more');

    const other = await newUser(h);
    assert.equal((await signIn(h, other, fresh())).status, 303, 'other people are not affected');
  });

  it('honours the forwarded address for the per-address limit', async () => {
    const from = fresh();
    assert.equal((await signIn(h, await newUser(h), from)).status, 303);
    assert.equal((await signIn(h, await newUser(h), from)).status, 303);
    assertRefusalPage(await signIn(h, await newUser(h), from));
  });

  it('refuses a user id NoPass does not know with the same page', async () => {
    const known = await newUser(h);
    const unknown = 'nobody-knows-me';
    const pages: string[] = [];
    for (const userId of [known, unknown]) {
      const { browser, interaction } = await openForm(h);
      let hop: Hop | undefined;
      for (let attempt = 0; attempt < 4 && hop?.status !== 429; attempt += 1) {
        hop = await send(browser, `${interaction}/login`, { userId }, fresh());
      }
      assert.equal(hop?.status, 429, `${userId} reaches the limit`);
      pages.push(hop.body.replaceAll(new URL(interaction).pathname, '/interaction/UID'));
    }
    assert.equal(pages[0], pages[1]);
  });
});

describe('the window', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      env: { RATE_LIMIT_WINDOW_SECONDS: '1', RATE_LIMIT_SIGNIN_PER_IP: '1' },
    });
  });
  after(() => h.stop());

  it('lets the address in again once Retry-After has passed', async () => {
    const userId = await newUser(h);
    assert.equal((await signIn(h, userId)).status, 303);
    let hop = await signIn(h, userId);
    assert.equal(hop.status, 429);
    // Waits as long as the bridge says, a few times at most.
    for (let waits = 0; waits < 3 && hop.status === 429; waits += 1) {
      await sleep(retryAfter(hop) * 1000);
      hop = await signIn(h, userId);
    }
    assert.equal(hop.status, 303, hop.body);
  });
});

describe('a limit set to 0', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { RATE_LIMIT_SIGNIN_PER_USER: '0' } });
  });
  after(() => h.stop());

  it('is off: one user id is asked for more often than the default would allow', async () => {
    const userId = await newUser(h);
    // The default is 10 a minute per user id.
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const hop = await signIn(h, userId);
      assert.equal(hop.status, 303, `attempt ${attempt + 1}: ${hop.body}`);
    }
    assert.equal((await h.auths(userId)).length, 12);
  });
});
