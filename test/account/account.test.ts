/**
 * The account page end to end over real HTTP: signing in to it through NoPass (the simulator
 * approves), the profile the bridge keeps, signing out, and removing the NoPass sign-in, which
 * asks NoPass (DeleteInitialPortal) and deletes the user here, whichever side moves first, and
 * keeps the user when NoPass fails or refuses.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkClientsFile } from '../../src/cli/clients.ts';
import { ACCOUNT_CLIENT_ID } from '../../src/oidc/clients.ts';
import { Browser, last, type Hop } from '../helpers/browser.ts';
import { newUser, signInToAccount } from '../helpers/flows.ts';
import { RP_CLIENT, startHarness, type Harness } from '../helpers/harness.ts';

interface Call {
  direction: 'received' | 'sent';
  op: string;
  body: Record<string, unknown> | null;
  status: number | null;
}

describe('account page', { timeout: 60_000 }, () => {
  let h: Harness;
  let account: string;

  before(async () => {
    h = await startHarness();
    account = `${h.issuer}/account`;
  });
  after(() => h.stop());

  /** A user NoPass knows, in the directory with a profile. */
  async function knownUser(label: string): Promise<string> {
    const userId = await newUser(h, label);
    const created = await h.bridge.store.createUser({
      userId,
      profile: { givenName: 'Grace', surName: 'Hopper', email: 'grace@example.com' },
      emailVerified: false,
      phoneNumberVerified: false,
      createdAt: Date.UTC(2024, 0, 2, 3, 4),
      registeredAt: Date.UTC(2024, 0, 2, 3, 4),
    });
    assert.ok(created);
    return userId;
  }

  /** Opens the account page and signs in as `userId`; returns the account page. */
  function signIn(browser: Browser, userId: string): Promise<Hop> {
    return signInToAccount(h, browser, userId);
  }

  /** The calls of `op` about `userId` the simulator received or sent. */
  async function calls(op: string, userId: string): Promise<Call[]> {
    const response = await fetch(`${h.simulatorUrl}/control/calls`);
    const all = (await response.json()) as Call[];
    return all.filter((call) => call.op === op && call.body?.userId === userId);
  }

  /** The confirmation page, as the person sees it before removing. */
  async function confirmation(browser: Browser): Promise<Hop> {
    const page = await browser.get(`${account}/delete`);
    assert.equal(page.status, 200);
    assert.match(page.body, /action="\/account\/delete"/);
    assert.match(page.body, /name="_csrf"/, 'the form carries its anti-forgery token');
    return page;
  }

  it('signs in through NoPass and shows the profile the bridge keeps', async () => {
    const userId = await knownUser('acct-view');
    const browser = new Browser();
    const page = await signIn(browser, userId);

    assert.match(page.body, new RegExp(`id="account-user-id">${userId}<`));
    assert.match(page.body, /id="account-name">Grace Hopper</);
    assert.match(page.body, /id="account-email">grace@example.com</);
    assert.match(page.body, /id="account-phone"><span class="hint">not given</);
    assert.match(page.body, /datetime="2024-01-02T03:04:00.000Z">January 2, 2024 at 3:04 AM UTC</);
    assert.match(page.body, /id="account-last-sign-in"><time datetime=/, 'just signed in');
    assert.match(page.body, /action="\/account\/logout"/);
    assert.match(page.body, /href="\/account\/delete"/);
    assert.equal(page.headers.get('cache-control'), 'no-store');

    const cookies = await browser.jar.getCookies(account);
    const session = cookies.find((cookie) => cookie.key === 'account_session');
    assert.ok(session, 'the account page keeps its own session');
    assert.equal(session.path, '/account');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'lax');
    assert.ok(
      cookies.some((cookie) => cookie.key === 'account_session.sig'),
      'signed',
    );
    const elsewhere = await browser.jar.getCookies(`${h.issuer}/`);
    assert.ok(!elsewhere.some((cookie) => cookie.key.startsWith('account_')), 'only /account');

    const again = await browser.get(account);
    assert.equal(again.status, 200, 'still signed in: the profile again, no new sign-in');
    assert.match(again.body, /id="account-name">Grace Hopper</);
  });

  it('shows the landing page with a link to the account page', async () => {
    const landing = await new Browser().get(`${h.issuer}/`);
    assert.equal(landing.status, 200);
    assert.match(landing.body, /href="\/account"/);
  });

  it('removes the NoPass sign-in: NoPass asked, the user gone, and again is harmless', async () => {
    const userId = await knownUser('acct-remove');
    const browser = new Browser();
    await signIn(browser, userId);
    await confirmation(browser);
    const cookie = await browser.jar.getCookieString(`${account}/delete`);
    const token = browser.csrfTokens.get('/account/delete');
    assert.ok(token);

    const done = await browser.post(`${account}/delete`, {});
    assert.equal(done.status, 200, done.body);
    assert.match(done.body, /id="account-removed"/);
    assert.match(done.body, new RegExp(`has been removed from this service`));
    assert.match(done.body, /href="\/"/, 'a way on to the landing page');
    assert.equal((await calls('DeleteInitialPortal', userId)).length, 1, 'NoPass was asked');
    assert.equal((await calls('DeleteUser', userId)).length, 1, 'NoPass called back first');
    assert.equal(await h.bridge.store.getUser(userId), undefined, 'the user is gone');
    assert.deepEqual(await h.bridge.store.accountRecords(userId), { grantIds: [], sessionIds: [] });

    // The account cookie went with it, and so did the bridge session: a new sign-in.
    const next = last(await browser.follow(account));
    assert.match(next.url, /\/interaction\/[\w-]+$/, 'the user id form again');

    // The same form sent again, with the cookies it had: removed, and NoPass not asked again.
    const replay = await fetch(`${account}/delete`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ _csrf: token }).toString(),
      redirect: 'manual',
    });
    assert.equal(replay.status, 200);
    assert.match(await replay.text(), /id="account-removed"/);
    assert.equal((await calls('DeleteInitialPortal', userId)).length, 1);

    // Without an account session any more the form is refused, changing nothing.
    const stale = await browser.post(`${account}/delete`, { _csrf: token });
    assert.equal(stale.status, 403);
    assert.match(stale.body, /href="\/account"/);
    assert.equal((await calls('DeleteInitialPortal', userId)).length, 1);
  });

  it('takes a DeleteUser that came first from NoPass as removed', async () => {
    const userId = await knownUser('acct-first');
    const browser = new Browser();
    await signIn(browser, userId);
    await confirmation(browser);
    const cookie = await browser.jar.getCookieString(account);

    const deleted = await h.control(`/control/users/${userId}/delete`, {});
    assert.equal(((await deleted.json()) as { portalStatus: number }).portalStatus, 200);
    assert.equal(await h.bridge.store.getUser(userId), undefined);

    const view = await fetch(account, { headers: { cookie, accept: 'text/html' } });
    assert.equal(view.status, 200);
    assert.match(await view.text(), /id="account-removed"/, 'the page says it is gone');

    const done = await browser.post(`${account}/delete`, {});
    assert.equal(done.status, 200, done.body);
    assert.match(done.body, /id="account-removed"/);
    assert.equal((await calls('DeleteInitialPortal', userId)).length, 0, 'nothing left to ask');
  });

  it('keeps the user when NoPass fails, and removes on the next try', async () => {
    const userId = await knownUser('acct-fail');
    const browser = new Browser();
    await signIn(browser, userId);
    await confirmation(browser);

    await h.control('/control/faults', { failNext: 1 });
    const failed = await browser.post(`${account}/delete`, {});
    await h.control('/control/faults', undefined, 'DELETE');
    assert.equal(failed.status, 503, failed.body);
    assert.match(failed.body, /role="alert"/);
    assert.match(failed.body, /nothing was changed/);
    assert.match(failed.body, /nopass_unavailable/);
    assert.match(failed.body, /href="\/account"/, 'a way back to try again');
    assert.ok(await h.bridge.store.getUser(userId), 'the user is kept');
    assert.equal((await calls('DeleteUser', userId)).length, 0);

    const page = await browser.get(account);
    assert.equal(page.status, 200, 'still signed in to the account page');
    assert.match(page.body, /id="account-name">Grace Hopper</);

    await confirmation(browser);
    const done = await browser.post(`${account}/delete`, {});
    assert.equal(done.status, 200, done.body);
    assert.match(done.body, /id="account-removed"/);
    assert.equal(await h.bridge.store.getUser(userId), undefined);
  });

  it('takes an unreadable answer after NoPass called DeleteUser as removed', async () => {
    const userId = await knownUser('acct-garbled');
    const browser = new Browser();
    await signIn(browser, userId);
    await confirmation(browser);
    // The bridge session has ended meanwhile, so the deletion closes no NoPass authentication
    // and the spoiled answer is DeleteInitialPortal's own.
    const sessions = h.bridge.store.oidcAdapter('Session');
    for (const id of (await h.bridge.store.accountRecords(userId)).sessionIds) {
      await sessions.destroy(id);
    }

    await h.control('/control/faults', { malformedNext: 'html' });
    const done = await browser.post(`${account}/delete`, {});
    await h.control('/control/faults', undefined, 'DELETE');
    assert.equal(done.status, 200, done.body);
    assert.match(done.body, /id="account-removed"/);
    const [asked] = await calls('DeleteInitialPortal', userId);
    assert.equal(asked?.status, 200, 'NoPass did the deletion; only its answer was unreadable');
    assert.equal((await calls('DeleteUser', userId)).length, 1);
    assert.equal(await h.bridge.store.getUser(userId), undefined);
  });

  it('keeps the user when NoPass refuses', async () => {
    const userId = await knownUser('acct-refused');
    const browser = new Browser();
    await signIn(browser, userId);
    await confirmation(browser);
    // NoPass forgets the user, but its DeleteUser names another portal and is refused here.
    await h.control(`/control/users/${userId}/delete`, { sendPortalId: 'not-this-portal' });
    assert.ok(await h.bridge.store.getUser(userId));

    const refused = await browser.post(`${account}/delete`, {});
    assert.equal(refused.status, 502, refused.body);
    assert.match(refused.body, /Your NoPass sign-in was not removed/);
    assert.match(refused.body, /nopass_refused/);
    assert.ok(await h.bridge.store.getUser(userId), 'the user is kept');
  });

  it('refuses a removal sent from another site', async () => {
    const userId = await knownUser('acct-forged');
    const browser = new Browser();
    await signIn(browser, userId);

    const forged = await browser.forge(`${account}/delete`, {});
    assert.equal(forged.status, 403);
    assert.match(forged.body, /csrf_token_invalid/);
    assert.ok(await h.bridge.store.getUser(userId));
    assert.equal((await calls('DeleteInitialPortal', userId)).length, 0);
  });

  for (const answer of ['yes', 'no']) {
    it(`signs out at the end-session endpoint (answered "${answer}") and says the page was left`, async () => {
      const userId = await knownUser(`acct-out-${answer}`);
      const browser = new Browser();
      await signIn(browser, userId);

      const out = await browser.post(`${account}/logout`, {});
      assert.equal(out.status, 303);
      const logout = new URL(out.location!);
      assert.equal(`${logout.origin}${logout.pathname}`, `${h.issuer}/session/end`);
      assert.ok(logout.searchParams.get('id_token_hint'));
      assert.equal(logout.searchParams.get('post_logout_redirect_uri'), `${account}/signed-out`);
      assert.equal(logout.searchParams.get('client_id'), ACCOUNT_CLIENT_ID);

      const confirm = await browser.get(logout.href);
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)?.[1];
      assert.ok(xsrf, 'the provider asks "Sign out?"');
      const form: Record<string, string> = { xsrf };
      if (answer === 'yes') form.logout = 'yes';
      const done = await browser.post(`${h.issuer}/session/end/confirm`, form);
      assert.equal(done.status, 303);
      assert.equal(done.location, `${account}/signed-out`);

      const left = await browser.get(done.location);
      assert.equal(left.status, 200);
      assert.match(left.body, /id="account-left"/);
      assert.match(left.body, /href="\/account"/);

      const next = last(await browser.follow(account));
      assert.match(next.url, /\/interaction\/[\w-]+$/, 'the account page signs in anew');
      assert.ok(await h.bridge.store.getUser(userId), 'signing out deletes nothing');
    });
  }

  it('answers a cancelled sign-in with a page that leads back to the account page', async () => {
    const browser = new Browser();
    const form = last(await browser.follow(account));
    assert.match(form.url, /\/interaction\/[\w-]+$/);
    const cancelled = await browser.post(`${form.url}/cancel`, {});
    const back = last(await browser.follow(cancelled.location!));
    assert.match(back.url, /^http:\/\/127\.0\.0\.1:\d+\/account\/callback\?/);
    assert.equal(back.status, 400);
    assert.match(back.body, /access_denied/);
    assert.match(back.body, /href="\/account"/);
  });

  it('refuses a callback it did not start and bad input with a readable page', async () => {
    const browser = new Browser();
    for (const query of [
      '?code=abc&state=not-started',
      `?state=${'x'.repeat(300)}`,
      '',
      '?state=a%00b',
    ]) {
      const hop = await browser.get(`${account}/callback${query}`);
      assert.equal(hop.status, 400, query);
      assert.match(hop.headers.get('content-type') ?? '', /text\/html/);
      assert.match(hop.body, /account_flow_missing/, query);
      assert.match(hop.body, /href="\/account"/);
    }
    const signedOut = await browser.forge(`${account}/delete`, {});
    assert.equal(signedOut.status, 403, 'nothing to remove without a sign-in');
    const unknown = await browser.get(`${account}/nothing-here`);
    assert.equal(unknown.status, 404);
  });

  it('lets no clients file entry take the account page client id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'account-client-'));
    const file = join(dir, 'clients.json');
    await writeFile(
      file,
      JSON.stringify([RP_CLIENT, { ...RP_CLIENT, client_id: ACCOUNT_CLIENT_ID }]),
    );
    const result = await checkClientsFile(file);
    assert.equal(result.ok, false);
    assert.match(result.message, /reserved for the bridge's own account page/);
  });
});
