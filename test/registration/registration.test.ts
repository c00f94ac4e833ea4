/**
 * Registration from the hosted pages, end to end over real HTTP: the bridge, the simulator
 * playing NoPass and the app, openid-client as the relying party, and a scripted browser.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser, last } from '../helpers/browser.ts';
import { authorizationRequest, startHarness, type Harness } from '../helpers/harness.ts';
import { backToRelyingParty, finishInApp, freshUserId, startRegistration } from './helpers.ts';

const FORM = {
  given_name: 'Ada',
  family_name: 'Lovelace',
  email: 'ada@example.com',
  phone_number: '+41 44 123 45 67',
};

interface Call {
  direction: string;
  op: string;
  body: Record<string, unknown>;
  status: number | null;
}

async function calls(h: Harness, op: string): Promise<Call[]> {
  const response = await fetch(`${h.simulatorUrl}/control/calls`);
  return ((await response.json()) as Call[]).filter((call) => call.op === op);
}

describe('registration', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());

  it('registers, then resumes the sign-in: the RP gets a code and the profile claims', async () => {
    const browser = new Browser();
    const userId = freshUserId();
    const started = await startRegistration(h, browser, { userId, ...FORM });

    const [pre] = (await calls(h, 'PreRegisterUser')).slice(-1);
    assert.equal(pre?.body.userId, userId);
    assert.equal(pre?.body.clientIP, '127.0.0.1', "the browser's address, as ctx.ip");
    assert.equal(pre?.body.redirectUrl, started.redirectUrl);
    assert.ok(started.redirectUrl.startsWith(`${started.interaction}/register/`));
    assert.deepEqual(pre?.body.data, {
      givenName: 'Ada',
      surName: 'Lovelace',
      phoneNumber: '+41 44 123 45 67',
      email: 'ada@example.com',
    });

    const back = await finishInApp(browser, started.registerLink);
    assert.equal(back, started.redirectUrl, 'the app sends the browser back to the bridge');
    const [validate] = (await calls(h, 'ValidateUserRegistration')).slice(-1);
    assert.equal(validate?.status, 200);
    const [confirm] = (await calls(h, 'ConfirmUserRegistration')).slice(-1);
    assert.equal(confirm?.status, 200);

    const tokens = await backToRelyingParty(h, browser, back, started.request);
    const claims = tokens.claims();
    assert.ok(claims);
    assert.equal(claims.sub, userId);
    assert.equal(claims.preferred_username, userId);
    assert.equal(claims.name, 'Ada Lovelace');
    assert.equal(claims.given_name, 'Ada');
    assert.equal(claims.family_name, 'Lovelace');
    assert.equal(claims.email, 'ada@example.com');
    assert.equal(claims.email_verified, true, 'NoPass sent it in ValidateUserRegistration');
    assert.equal(claims.phone_number, '+41 44 123 45 67');
    assert.equal(claims.phone_number_verified, true);

    const userinfo = await oidc.fetchUserInfo(h.rp, tokens.access_token, userId);
    assert.equal(userinfo.email, 'ada@example.com');
    assert.equal(userinfo.email_verified, true);
    assert.equal(userinfo.family_name, 'Lovelace');

    const user = await h.bridge.store.getUser(userId);
    assert.ok(user?.registeredAt, 'the directory has the registration time');
    assert.ok(user.lastSignInAt, 'and the sign-in');

    const again = await browser.get(back);
    assert.equal(again.status, 400, 'the way back works once');
    assert.match(again.body, /already been used/);

    // Registered through the simulator, the user now signs in like anyone else.
    const known = await fetch(`${h.simulatorUrl}/control/portals`);
    const [portal] = (await known.json()) as { users: string[] }[];
    assert.ok(portal?.users.includes(userId));
  });

  it('says the registration is complete, with a link back, when the sign-in expired', async () => {
    const browser = new Browser();
    const userId = freshUserId();
    const started = await startRegistration(h, browser, { userId, ...FORM });
    // The OIDC interaction ends while the person is busy in the app.
    const uid = new URL(started.interaction).pathname.split('/').at(-1)!;
    await h.bridge.store.oidcAdapter('Interaction').destroy(uid);

    const back = await finishInApp(browser, started.registerLink);
    const page = await browser.get(back);
    assert.equal(page.status, 200);
    assert.match(page.body, /Registration complete/);
    assert.match(page.body, /href="http:\/\/127\.0\.0\.1:65001\/"/, 'a link to the application');
    assert.ok(await h.bridge.store.getUser(userId), 'the user exists');
  });

  it('waits for NoPass when the browser comes back before the confirmation', async () => {
    const browser = new Browser();
    const userId = freshUserId();
    const started = await startRegistration(h, browser, { userId, ...FORM });

    const early = await browser.get(started.redirectUrl);
    assert.equal(early.status, 200);
    assert.match(early.body, /Waiting for NoPass to confirm/);
    assert.match(early.body, /<noscript><meta http-equiv="refresh"/, 'no script: it reloads');
    assert.match(early.body, /src="\/static\/registration\.js"/, 'else a script asks');
    const state = async (who: Browser) =>
      JSON.parse((await who.get(`${started.redirectUrl}/state`)).body) as { waiting: boolean };
    assert.deepEqual(await state(browser), { waiting: true });
    assert.deepEqual(await state(new Browser()), { waiting: false }, 'not for another browser');

    const done = await fetch(`${h.simulatorUrl}/control/registrations/${started.otp}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(((await done.json()) as { status: string }).status, 'confirmed');
    assert.deepEqual(await state(browser), { waiting: false }, 'the script reloads the page');
    const tokens = await backToRelyingParty(h, browser, started.redirectUrl, started.request);
    assert.equal(tokens.claims()?.sub, userId);
  });

  it('binds the way back to the browser that started the registration', async () => {
    const browser = new Browser();
    const started = await startRegistration(h, browser, { userId: freshUserId(), ...FORM });
    const back = await finishInApp(browser, started.registerLink);

    const stranger = await new Browser().get(back);
    assert.equal(stranger.status, 400);
    assert.match(stranger.body, /started in another browser/);
    await backToRelyingParty(h, browser, back, started.request);
  });

  it('refuses a taken user id on the form, and one taken during the registration', async () => {
    const userId = freshUserId();
    const first = new Browser();
    const second = new Browser();
    const one = await startRegistration(h, first, { userId, ...FORM });
    const two = await startRegistration(h, second, { userId, ...FORM });
    await backToRelyingParty(h, first, await finishInApp(first, one.registerLink), one.request);

    // The second registration reached NoPass before the first finished: the policy says no.
    const page = await second.get(two.registerLink);
    assert.equal(page.status, 200);
    const refused = await second.post(two.registerLink, {});
    assert.equal(refused.status, 200, 'the app stays on its page');
    assert.match(refused.body, /refused this registration/);
    const back = await second.get(two.redirectUrl);
    assert.equal(back.status, 400);
    assert.match(back.body, /Registration not accepted/);
    assert.match(back.body, /taken in the meantime/);
    assert.match(back.body, /Start a new registration/);

    // A third person is told on the form, before NoPass is involved.
    const third = new Browser();
    const request = await authorizationRequest(h.rp);
    const login = last(await third.follow(request.url.href));
    const before = (await calls(h, 'PreRegisterUser')).length;
    await third.get(`${login.url}/register`);
    const taken = await third.post(`${login.url}/register`, { userId, ...FORM });
    assert.equal(taken.status, 400);
    assert.match(taken.body, /This user id is taken/);
    assert.match(taken.body, /value="Lovelace"/, 'what was typed is kept');
    assert.equal((await calls(h, 'PreRegisterUser')).length, before, 'NoPass was not asked');
  });

  it('checks the form field by field and names what is wrong', async () => {
    const browser = new Browser();
    const request = await authorizationRequest(h.rp);
    const login = last(await browser.follow(request.url.href));
    await browser.get(`${login.url}/register`);
    const answer = await browser.post(`${login.url}/register`, {
      userId: 'a!',
      given_name: 'Ada',
      email: 'not-an-address',
      phone_number: 'call me',
    });
    assert.equal(answer.status, 400);
    assert.match(answer.body, /at least 3 characters/);
    assert.match(answer.body, /e-mail address such as/);
    assert.match(answer.body, /phone number such as/);
    assert.match(answer.body, /aria-invalid="true"/);
  });

  it('keeps what a person typed unverified when NoPass confirms without validating', async () => {
    const browser = new Browser();
    const userId = freshUserId();
    const started = await startRegistration(h, browser, { userId, ...FORM });
    const done = await fetch(`${h.simulatorUrl}/control/registrations/${started.otp}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ skipValidation: true }),
    });
    const outcome = (await done.json()) as { status: string; validateStatus: number | null };
    assert.equal(outcome.status, 'confirmed');
    assert.equal(outcome.validateStatus, null);

    const tokens = await backToRelyingParty(h, browser, started.redirectUrl, started.request);
    const claims = tokens.claims();
    assert.equal(claims?.email, 'ada@example.com');
    assert.equal(claims?.email_verified, false, 'typed in a form: not vouched for by NoPass');
    assert.equal(claims?.phone_number_verified, false);
  });

  it('shows a way back when NoPass cannot start the registration', async () => {
    const browser = new Browser();
    const request = await authorizationRequest(h.rp);
    const login = last(await browser.follow(request.url.href));
    await browser.get(`${login.url}/register`);
    await h.control('/control/faults', { failNext: 1 });
    const answer = await browser.post(`${login.url}/register`, { userId: freshUserId(), ...FORM });
    assert.equal(answer.status, 503);
    assert.match(answer.body, /not answering right now/);
    assert.match(answer.body, /value="ada@example.com"/, 'the form is offered again, filled in');
  });
});

describe('registration policy: allowed e-mail domains', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      env: { REGISTRATION_EMAIL_DOMAINS: 'example.com', REGISTRATION_FIELDS: 'email' },
    });
  });
  after(() => h.stop());

  it('refuses another domain on the form', async () => {
    const browser = new Browser();
    const request = await authorizationRequest(h.rp);
    const login = last(await browser.follow(request.url.href));
    const form = await browser.get(`${login.url}/register`);
    assert.doesNotMatch(form.body, /name="given_name"/, 'only the configured fields are asked');
    assert.match(form.body, /Only addresses at example\.com can register here/);

    const answer = await browser.post(`${login.url}/register`, {
      userId: freshUserId(),
      email: 'ada@elsewhere.test',
    });
    assert.equal(answer.status, 400);
    assert.match(answer.body, /Only addresses at example\.com/);
    const missing = await browser.post(`${login.url}/register`, { userId: freshUserId() });
    assert.equal(missing.status, 400);
    assert.match(
      missing.body,
      /Please fill in this field/,
      'the domain rule makes e-mail required',
    );
  });

  it('refuses another domain in the details NoPass sends, and says so on the way back', async () => {
    const browser = new Browser();
    const userId = freshUserId();
    const started = await startRegistration(h, browser, { userId, email: 'ada@example.com' });
    const page = await browser.get(started.registerLink);
    assert.equal(page.status, 200);
    const refused = await browser.post(started.registerLink, { email: 'ada@elsewhere.test' });
    assert.match(refused.body, /refused this registration/);

    const back = await browser.get(started.redirectUrl);
    assert.equal(back.status, 400);
    assert.match(back.body, /not at a domain that can register here/);
    assert.equal(await h.bridge.store.getUser(userId), undefined, 'no user was created');
  });
});

describe('registration that expires', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { REGISTRATION_TTL_MS: '1000' } });
  });
  after(() => h.stop());

  it('is forgotten after REGISTRATION_TTL_MS, and the page says so', async () => {
    const browser = new Browser();
    const userId = freshUserId();
    const started = await startRegistration(h, browser, { userId, ...FORM });
    await new Promise((resolve) => setTimeout(resolve, 1300));

    const late = await fetch(`${h.simulatorUrl}/control/registrations/${started.otp}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const outcome = (await late.json()) as { status: string; validateStatus: number };
    assert.equal(outcome.validateStatus, 400, 'the bridge no longer knows the otp');
    assert.equal(outcome.status, 'failed');

    const back = await browser.get(started.redirectUrl);
    assert.equal(back.status, 410);
    assert.match(back.body, /Registration expired/);
    assert.match(back.body, /within 1 minutes/);
    assert.match(back.body, /Start a new registration/, 'the sign-in is alive: start again');
    assert.equal(await h.bridge.store.getUser(userId), undefined);
  });
});

describe('registration switched off', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { REGISTRATION_ENABLED: 'false' } });
  });
  after(() => h.stop());

  it('offers no link and answers the form with a 404 page', async () => {
    const browser = new Browser();
    const request = await authorizationRequest(h.rp);
    const login = last(await browser.follow(request.url.href));
    assert.doesNotMatch(login.body, /\/register"/);
    const form = await browser.get(`${login.url}/register`);
    assert.equal(form.status, 404);
    assert.match(form.body, /Registration is not offered here/);
  });
});
