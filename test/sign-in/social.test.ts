/**
 * Signing in through a social network (`NOPASS_SOCIAL`), end to end: the user id page offers
 * the networks, RequestAuthorization goes out with `social` and no user id, the picture page
 * links to NoPass's `loginUrl` (the simulator's social sign-in page), and the approval there
 * names the user who becomes the ID token's subject.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, last } from '../helpers/browser.ts';
import { authorize, newUser, redeem } from '../helpers/flows.ts';
import { RP_REDIRECT, startHarness, type Harness } from '../helpers/harness.ts';
import { readSettings, SettingsError } from '../../src/settings/index.ts';

interface Call {
  direction: string;
  op: string;
  body: Record<string, unknown> | null;
  status: number | null;
}

async function lastRequest(h: Harness): Promise<Record<string, unknown>> {
  const calls = (await (await fetch(`${h.simulatorUrl}/control/calls`)).json()) as Call[];
  const call = calls.filter((c) => c.direction === 'received' && c.op === 'RequestAuthorization');
  return call.at(-1)?.body ?? {};
}

async function socialAuth(h: Harness): Promise<{ authId: string; social?: string }> {
  const auths = (await (await fetch(`${h.simulatorUrl}/control/auths?status=waiting`)).json()) as {
    authId: string;
    userId: string;
    social?: string;
  }[];
  const auth = auths.filter((entry) => entry.social !== undefined).at(-1);
  assert.ok(auth, 'a social sign-in waits at the simulator');
  return auth;
}

describe('social network sign-in', { timeout: 60_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { NOPASS_SOCIAL: 'google, facebook' } });
  });
  after(() => h.stop());

  it('signs in with Google through NoPass, as the user the approval names', async () => {
    const userId = await newUser(h, 'social');
    const browser = new Browser();
    const started = await authorize(browser, h.rp, RP_REDIRECT);
    const form = started.hop;
    assert.match(form.body, /Sign in with Google/);
    assert.match(form.body, /Sign in with Facebook/);

    const chosen = await browser.post(`${form.url}/social`, { network: 'google' });
    assert.equal(chosen.status, 303, chosen.body);
    assert.equal(chosen.location, `${form.url}/picture`);
    const sent = await lastRequest(h);
    assert.equal(sent.userId, '', 'a social sign-in names no user id');
    assert.equal(sent.social, 0, 'Google is 0');

    const page = await browser.get(`${form.url}/picture`);
    assert.equal(page.status, 200);
    const { authId } = await socialAuth(h);
    const loginUrl = `${h.simulatorUrl}/social/${authId}`;
    assert.match(page.body, /Continue with Google/);
    assert.ok(page.body.includes(`href="${loginUrl}"`), 'the link is NoPass loginUrl');
    assert.match(page.body, /target="_blank"/);
    assert.doesNotMatch(page.body, /id="picture"/, 'no picture to match');

    // The person, in the other tab: the social page, then Approve as their NoPass user.
    const person = new Browser();
    const social = await person.get(loginUrl);
    assert.equal(social.status, 200);
    assert.match(social.body, /Sign in with Google/);
    const unknown = await person.post(`${loginUrl}/approve`, { userId: 'nobody-known' });
    assert.equal(unknown.status, 400, 'only a user the site knows');
    const approved = await person.post(`${loginUrl}/approve`, { userId });
    assert.equal(approved.status, 303);

    const hops = await browser.follow(`${form.url}/picture`, RP_REDIRECT);
    const tokens = await redeem(started, last(hops));
    assert.equal(tokens.claims()?.sub, userId, 'the subject is the user NoPass approved');
    assert.equal(tokens.claims()?.preferred_username, userId);
  });

  it('asks NoPass for Facebook with 1, and offers to try again after a refusal', async () => {
    const browser = new Browser();
    const started = await authorize(browser, h.rp, RP_REDIRECT);
    await browser.post(`${started.hop.url}/social`, { network: 'facebook' });
    assert.equal((await lastRequest(h)).social, 1);
    const { authId } = await socialAuth(h);
    const person = new Browser();
    await person.post(`${h.simulatorUrl}/social/${authId}/refuse`, { reason: 'Not my account' });

    const page = await browser.get(`${started.hop.url}/picture`);
    assert.match(page.body, /Sign-in refused/);
    assert.match(page.body, /Not my account/);
    assert.match(page.body, /action="\/interaction\/[\w-]+\/social"/, 'try again by Facebook');
    assert.match(page.body, /name="network" value="facebook"/);
  });

  it('refuses an approval that does not say whom NoPass approved', async () => {
    const browser = new Browser();
    const started = await authorize(browser, h.rp, RP_REDIRECT);
    await browser.post(`${started.hop.url}/social`, { network: 'google' });
    const { authId } = await socialAuth(h);
    const nameless = await h.control(`/control/auths/${authId}/approve`);
    const { portalStatus } = (await nameless.json()) as { portalStatus: number };
    assert.equal(portalStatus, 400, 'the bridge answers AuthorizedUser with 400');
    const page = await browser.get(`${started.hop.url}/picture`);
    assert.equal(page.status, 200, 'the sign-in still waits');
    assert.match(page.body, /Continue with Google/);
    const complete = await browser.get(`${started.hop.url}/complete`);
    assert.match(complete.location ?? '', /\/picture$/, 'and cannot complete');
  });

  it('refuses a network that is not offered, with the form and a reason', async () => {
    const browser = new Browser();
    const started = await authorize(browser, h.rp, RP_REDIRECT);
    const answer = await browser.post(`${started.hop.url}/social`, { network: 'myspace' });
    assert.equal(answer.status, 400);
    assert.match(answer.body, /not offered here/);
    assert.match(answer.body, /name="userId"/);
  });
});

describe('social network sign-in, not enabled', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());

  it('offers no social network and refuses one', async () => {
    const browser = new Browser();
    const started = await authorize(browser, h.rp, RP_REDIRECT);
    assert.doesNotMatch(started.hop.body, /Sign in with Google/);
    // No social form on the page: sent with the token every form of this sign-in carries.
    const answer = await browser.post(`${started.hop.url}/social`, {
      network: 'google',
      _csrf: browser.tokenFor(`${started.hop.url}/cancel`) ?? '',
    });
    assert.equal(answer.status, 400);
    const calls = (await (await fetch(`${h.simulatorUrl}/control/calls`)).json()) as Call[];
    assert.ok(!calls.some((call) => call.op === 'RequestAuthorization'), 'NoPass never asked');
  });

  it('stops start-up on an unknown network, naming NOPASS_SOCIAL', () => {
    assert.throws(
      () => readSettings({ NOPASS_SOCIAL: 'google,twitter' }, () => 'x'),
      (error: unknown) => error instanceof SettingsError && error.setting === 'NOPASS_SOCIAL',
    );
    assert.deepEqual(readSettings({ NOPASS_SOCIAL: 'Facebook,google,' }, () => 'x').social, [
      'facebook',
      'google',
    ]);
    assert.deepEqual(readSettings({}, () => 'x').social, []);
  });
});
