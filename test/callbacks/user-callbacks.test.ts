/**
 * The user callbacks over real HTTP against a memory store with a clock the test moves:
 * ValidateUserRegistration and ConfirmUserRegistration around a pending registration,
 * UpdateUser and DeleteUser for this portal only, and portal re-registration through an open
 * window.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { PendingRegistration } from '../../src/state/types.ts';
import { ADMIN_ID, S_CODE, START, startHarness, type Harness } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const PORTAL = { portalId: 'portal-1', authToken: 'token-1', registeredAt: START };

async function withPortal(settings: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  h = await startHarness(settings);
  await h.store.setPortalIfAbsent(PORTAL);
  return h;
}

async function pending(
  harness: Harness,
  overrides: Partial<PendingRegistration> = {},
): Promise<PendingRegistration> {
  const registration: PendingRegistration = {
    otp: 'otp-1',
    id: 'registration-1',
    userId: 'ada',
    requested: { givenName: 'Ada', email: 'ada@typed.example' },
    status: 'started',
    browserRef: 'ref',
    interactionUid: 'uid-1',
    clientId: 'rp',
    createdAt: harness.clock.now,
    expiresAt: harness.clock.now + 120_000,
    ...overrides,
  };
  await harness.store.createRegistration(registration, 120_000);
  return registration;
}

describe('ValidateUserRegistration', () => {
  it("answers true, in any casing, and keeps NoPass's details as vouched for", async () => {
    const harness = await withPortal();
    await pending(harness);
    const reply = await harness.post('validateuserregistration', {
      OTP: 'otp-1',
      GivenName: 'Ada',
      SURNAME: 'Lovelace',
      email: 'ada@nopass.example',
      phoneNumber: '',
      login: 'ada',
      profileImageUrl: null,
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, true, 'a bare JSON true');
    const stored = await harness.store.getRegistration('otp-1');
    assert.equal(stored?.status, 'validated');
    assert.deepEqual(stored?.validated, {
      profile: { givenName: 'Ada', surName: 'Lovelace', email: 'ada@nopass.example' },
      emailVerified: true,
      phoneNumberVerified: false,
    });
  });

  it('answers false when the policy refuses, and says why on the record', async () => {
    const harness = await withPortal();
    await harness.store.createUser({
      userId: 'taken',
      profile: {},
      emailVerified: false,
      phoneNumberVerified: false,
      createdAt: 1,
    });
    await pending(harness, { otp: 'otp-taken', userId: 'taken' });
    await pending(harness, { otp: 'otp-other', id: 'registration-2', userId: 'ada' });
    const cases: [string, Record<string, unknown>, string][] = [
      ['otp-taken', {}, 'user_exists'],
      ['otp-other', { login: 'somebody-else' }, 'user_id_mismatch'],
      ['otp-other', { email: 'not an address' }, 'invalid_details'],
    ];
    for (const [otp, details, refusal] of cases) {
      const reply = await harness.post('ValidateUserRegistration', { otp, ...details });
      assert.equal(reply.status, 200, refusal);
      assert.equal(reply.body, false, refusal);
      assert.equal((await harness.store.getRegistration(otp))?.refusal, refusal);
    }
  });

  it('answers 400 for an unknown otp or a malformed body', async () => {
    const harness = await withPortal();
    const unknown = await harness.post('ValidateUserRegistration', { otp: 'nope' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, 'unknown_registration');
    const malformed = await harness.post('ValidateUserRegistration', { otp: 7 });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error, 'invalid_request');
  });
});

describe('ConfirmUserRegistration', () => {
  it('creates the user once; a repeated call is answered 200 and changes nothing', async () => {
    const harness = await withPortal();
    await pending(harness);
    await harness.post('ValidateUserRegistration', { otp: 'otp-1', email: 'ada@nopass.example' });
    const first = await harness.post('ConfirmUserRegistration', {
      otp: 'otp-1',
      registerLink: 'https://nopass.example/register/otp-1',
    });
    assert.equal(first.status, 200);
    const user = await harness.store.getUser('ada');
    assert.equal(user?.profile.email, 'ada@nopass.example');
    assert.equal(user?.emailVerified, true);
    assert.equal(user?.registeredAt, START);

    harness.clock.now += 5000;
    const second = await harness.post('ConfirmUserRegistration', { otp: 'otp-1' });
    assert.equal(second.status, 200);
    assert.deepEqual(await harness.store.getUser('ada'), user);
  });

  it('refuses an unknown, a refused, and an already taken registration', async () => {
    const harness = await withPortal();
    const unknown = await harness.post('ConfirmUserRegistration', { otp: 'nope' });
    assert.equal(unknown.body.error, 'unknown_registration');

    await pending(harness, { otp: 'otp-refused', userId: 'bob' });
    await harness.post('ValidateUserRegistration', { otp: 'otp-refused', login: 'someone' });
    const refused = await harness.post('ConfirmUserRegistration', { otp: 'otp-refused' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'registration_refused');
    assert.equal(await harness.store.getUser('bob'), undefined);

    await pending(harness, { otp: 'otp-late', id: 'registration-late', userId: 'carol' });
    await harness.store.recordSignIn('carol', START);
    const late = await harness.post('ConfirmUserRegistration', { otp: 'otp-late' });
    assert.equal(late.status, 400);
    assert.equal(late.body.error, 'user_exists');
    assert.equal((await harness.store.getRegistration('otp-late'))?.refusal, 'user_exists');
  });
});

describe('UpdateUser and DeleteUser', () => {
  it('answer 400 wrong_portal for another portal, or before any portal is registered', async () => {
    h = await startHarness();
    const early = await h.post('DeleteUser', { userId: 'ada', portalId: 'portal-1' });
    assert.equal(early.status, 400);
    assert.equal(early.body.error, 'wrong_portal');
    await h.store.setPortalIfAbsent(PORTAL);
    for (const op of ['UpdateUser', 'DeleteUser']) {
      const reply = await h.post(op, { userId: 'ada', portalId: 'portal-2', updates: {} });
      assert.equal(reply.status, 400, op);
      assert.equal(reply.body.error, 'wrong_portal', op);
    }
  });

  it('removes a value sent with forbiddenStore and keeps the others', async () => {
    const harness = await withPortal();
    await harness.store.createUser({
      userId: 'ada',
      profile: { givenName: 'Ada', email: 'ada@example.com', phoneNumber: '+44 20 7946 0000' },
      emailVerified: true,
      phoneNumberVerified: true,
      createdAt: 1,
    });
    const reply = await harness.post('UpdateUser', {
      UserId: 'ada',
      PortalId: 'portal-1',
      Updates: {
        Email: { NewValue: 'ada@example.com', ForbiddenStore: true },
        givenName: { newValue: 'Augusta Ada' },
        login: { newValue: 'ada', forbiddenStore: false },
      },
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const user = await harness.store.getUser('ada');
    assert.deepEqual(user?.profile, { givenName: 'Augusta Ada', phoneNumber: '+44 20 7946 0000' });
    assert.equal(user?.emailVerified, false);
    assert.equal(user?.phoneNumberVerified, true, 'untouched');
  });

  it('deletes on every call for this portal, the user being there or not', async () => {
    const harness = await withPortal();
    await harness.store.recordSignIn('ada', START);
    for (let round = 0; round < 2; round += 1) {
      const reply = await harness.post('DeleteUser', { userId: 'ada', portalId: 'portal-1' });
      assert.equal(reply.status, 200);
      assert.equal(await harness.store.getUser('ada'), undefined);
    }
  });
});

describe('portal re-registration window', () => {
  it('answers the registration calls only while the window is open, and replaces once', async () => {
    const harness = await withPortal();
    const pre = () => harness.post('ConfirmPreRegistration', { adminId: ADMIN_ID, r: 41 });
    const confirm = (portalId: string) =>
      harness.post('ConfirmRegistration', { settings: '{}', portalId, authToken: `${portalId}-t` });

    assert.equal((await pre()).status, 409, 'registered, no window: refused');
    await harness.store.openPortalWindow(harness.clock.now + 60_000);
    const answered = await pre();
    assert.equal(answered.status, 200);
    assert.equal(answered.body.sCode, S_CODE);

    assert.equal((await confirm('portal-new')).status, 200);
    assert.equal((await harness.store.getPortal())?.portalId, 'portal-new');
    assert.equal((await confirm('portal-newer')).status, 409, 'the window is used up');
    assert.equal((await harness.store.getPortal())?.portalId, 'portal-new');

    await harness.store.openPortalWindow(harness.clock.now + 60_000);
    harness.clock.now += 61_000;
    assert.equal((await pre()).status, 409, 'the window ran out');
  });
});
