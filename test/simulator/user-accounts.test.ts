/**
 * The simulator playing the app for a user's account: finishing a registration (from its page
 * or the control API), and sending UpdateUser and DeleteUser on its own initiative, each
 * against a real test portal that records what it received.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { control, field, operation, setup, type PortalBehaviour, type Setup } from './helpers.ts';

let s: Setup | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function preRegister(
  behaviour: PortalBehaviour = {},
): Promise<{ s: Setup; otp: string; registerLink: string }> {
  s = await setup({}, behaviour);
  const reply = await operation(s, 'UserRegistration/PreRegisterUser', {
    portalId: s.portalId,
    userId: 'newcomer',
    clientIP: '203.0.113.7',
    redirectUrl: 'https://site.example/back/1',
    socialNetwork: '',
    data: { givenName: 'New', surName: 'Comer', email: 'n@example.test' },
  });
  const { otp, registerLink } = reply.json().result as { otp: string; registerLink: string };
  return { s, otp, registerLink };
}

describe('registration, the app’s part', () => {
  it('validates, confirms, then sends the browser back; the user can sign in', async () => {
    const { s, otp, registerLink } = await preRegister();
    const page = await fetch(registerLink);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /form-action 'self' http: https:/, 'the way back is allowed');

    const done = await fetch(registerLink, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ givenName: 'Newer', surName: 'Comer', email: 'n@example.test' }),
      redirect: 'manual',
    });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), 'https://site.example/back/1');

    const validate = await s.portal.waitFor('ValidateUserRegistration');
    assert.equal(field(validate.body, 'otp'), otp);
    assert.equal(field(validate.body, 'givenName'), 'Newer', 'as changed in the app');
    assert.equal(field(validate.body, 'login'), 'newcomer');
    const confirm = await s.portal.waitFor('ConfirmUserRegistration');
    assert.equal(field(confirm.body, 'registerLink'), registerLink);

    const auth = await operation(s, 'UserAuthentication/RequestAuthorization', {
      portalId: s.portalId,
      userId: 'newcomer',
    });
    assert.equal(auth.status, 200, 'a registered user is known for RequestAuthorization');

    const again = await control<{ error: string }>(s.url, 'POST', `/registrations/${otp}/complete`);
    assert.equal(again.status, 409, 'a registration finishes once');
  });

  it('stops at a false ValidateUserRegistration, and says so on its page', async () => {
    const { s, otp, registerLink } = await preRegister({ validate: false });
    const reply = await control<{ status: string; validateStatus: number; confirmStatus: null }>(
      s.url,
      'POST',
      `/registrations/${otp}/complete`,
      { details: { email: 'other@example.test' } },
    );
    assert.deepEqual(reply.body, {
      status: 'refused',
      validateStatus: 200,
      confirmStatus: null,
      redirectUrl: 'https://site.example/back/1',
    });
    assert.ok(!s.portal.calls.some((call) => call.op === 'ConfirmUserRegistration'));
    const validate = await s.portal.waitFor('ValidateUserRegistration');
    assert.equal(field(validate.body, 'email'), 'other@example.test');

    const page = await (await fetch(registerLink)).text();
    assert.match(page, /refused this registration/);
    const listed = await control<{ otp: string; status: string }[]>(s.url, 'GET', '/registrations');
    assert.equal(listed.body.find((each) => each.otp === otp)?.status, 'refused');
  });

  it('can confirm without validating, as a server that skips the question', async () => {
    const { s, otp } = await preRegister();
    const reply = await control<{ status: string }>(
      s.url,
      'POST',
      `/registrations/${otp}/complete`,
      {
        skipValidation: true,
      },
    );
    assert.equal(reply.body.status, 'confirmed');
    assert.ok(!s.portal.calls.some((call) => call.op === 'ValidateUserRegistration'));
  });
});

describe('UpdateUser and DeleteUser on NoPass’s initiative', () => {
  it('sends UpdateUser as given, with this portal’s id or another', async () => {
    s = await setup();
    const updates = { email: { newValue: 'new@example.test', forbiddenStore: false } };
    const sent = await control<{ portalStatus: number }>(s.url, 'POST', '/users/demo/update', {
      updates,
    });
    assert.equal(sent.body.portalStatus, 200);
    const call = await s.portal.waitFor('UpdateUser');
    assert.equal(field(call.body, 'userId'), 'demo');
    assert.equal(field(call.body, 'portalId'), s.portalId);
    assert.deepEqual(field(call.body, 'updates'), updates);

    await control(s.url, 'POST', '/users/demo/update', { updates, sendPortalId: 'elsewhere' });
    const wrong = await s.portal.waitFor(
      'UpdateUser',
      (c) => field(c.body, 'portalId') !== s!.portalId,
    );
    assert.equal(field(wrong.body, 'portalId'), 'elsewhere');

    const bad = await control(s.url, 'POST', '/users/demo/update', { updates: 'everything' });
    assert.equal(bad.status, 400);
  });

  it('sends DeleteUser and forgets the user', async () => {
    s = await setup();
    const sent = await control<{ portalStatus: number }>(s.url, 'POST', '/users/demo/delete', {});
    assert.equal(sent.body.portalStatus, 200);
    const call = await s.portal.waitFor('DeleteUser');
    assert.deepEqual(
      [field(call.body, 'userId'), field(call.body, 'portalId')],
      ['demo', s.portalId],
    );
    const auth = await operation(s, 'UserAuthentication/RequestAuthorization', {
      portalId: s.portalId,
      userId: 'demo',
    });
    assert.equal(auth.status, 400, 'NoPass no longer knows the user');
  });
});
