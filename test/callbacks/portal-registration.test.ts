/**
 * Portal registration through the callbacks: ConfirmPreRegistration hands out the S-code only
 * to the right admin id and only while a registration is awaited; ConfirmRegistration stores the
 * first portal registration and closes registration for good.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ADMIN_ID, S_CODE, START, startHarness, type Harness } from './harness.ts';

const REGISTRATION = {
  settings: '{"theme":"dark"}',
  portalId: 'portal-42',
  authToken: 'tok-AAAA-1111',
};

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('ConfirmPreRegistration', () => {
  it('answers the right admin id with the S-code and r + 1', async () => {
    h = await startHarness();
    const reply = await h.post('ConfirmPreRegistration', { adminId: ADMIN_ID, r: 41 });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { adminId: ADMIN_ID, sCode: S_CODE, r: 42 });
    assert.equal(reply.headers.get('cache-control'), 'no-store');
  });

  it('reads the fields in any casing and r as a string of digits', async () => {
    h = await startHarness();
    const reply = await h.post('ConfirmPreRegistration', { ADMINID: ADMIN_ID, R: '-7' });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.r, -6);
  });

  const wrongAdmins: [string, string][] = [
    ['a different id', 'someone-else'],
    ['the right id in another case', ADMIN_ID.toUpperCase()],
    ['a prefix of the right id', ADMIN_ID.slice(0, 4)],
  ];
  for (const [name, adminId] of wrongAdmins) {
    it(`refuses ${name} without revealing the S-code`, async () => {
      h = await startHarness();
      const reply = await h.post('ConfirmPreRegistration', { adminId, r: 1 });
      assert.equal(reply.status, 400);
      assert.equal(reply.body.error, 'invalid_admin_id');
      assert.ok(!JSON.stringify(reply.body).includes(S_CODE));
    });
  }

  const malformed: [string, Record<string, unknown>][] = [
    ['an adminId of 64 characters', { adminId: 'a'.repeat(64), r: 1 }],
    ['no adminId', { r: 1 }],
    ['no r', { adminId: ADMIN_ID }],
    ['a fractional r', { adminId: ADMIN_ID, r: 1.5 }],
    ['r as words', { adminId: ADMIN_ID, r: 'one' }],
    ['an r whose successor leaves the int range', { adminId: ADMIN_ID, r: 2_147_483_647 }],
  ];
  for (const [name, body] of malformed) {
    it(`refuses a body with ${name}`, async () => {
      h = await startHarness();
      const reply = await h.post('ConfirmPreRegistration', body);
      assert.equal(reply.status, 400);
      assert.equal(reply.body.error, 'invalid_request');
    });
  }

  it('is refused once a portal is registered, even with the right admin id', async () => {
    h = await startHarness();
    assert.equal((await h.post('ConfirmRegistration', REGISTRATION)).status, 200);

    const reply = await h.post('ConfirmPreRegistration', { adminId: ADMIN_ID, r: 1 });
    assert.equal(reply.status, 409);
    assert.equal(reply.body.error, 'registration_not_awaited');
    assert.match(String(reply.body.error_description), /already registered/);
    assert.ok(!JSON.stringify(reply.body).includes(S_CODE));
  });

  it('is refused when the operator configured the portal', async () => {
    h = await startHarness({
      settings: { configuredPortal: { portalId: 'configured', authToken: 'tok-configured' } },
    });
    const reply = await h.post('ConfirmPreRegistration', { adminId: ADMIN_ID, r: 1 });
    assert.equal(reply.status, 409);
    assert.equal(reply.body.error, 'registration_not_awaited');
    assert.match(String(reply.body.error_description), /operator/);
  });
});

describe('ConfirmRegistration', () => {
  it('stores the portal registration and answers with the S-code', async () => {
    h = await startHarness();
    h.clock.now = START + 5;
    const reply = await h.post('ConfirmRegistration', {
      Settings: REGISTRATION.settings,
      PortalId: REGISTRATION.portalId,
      AuthToken: REGISTRATION.authToken,
    });

    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { sCode: S_CODE });
    assert.deepEqual(await h.store.getPortal(), {
      portalId: 'portal-42',
      authToken: 'tok-AAAA-1111',
      registeredAt: START + 5,
    });
  });

  it('logs the portalId only', async () => {
    h = await startHarness();
    await h.post('ConfirmRegistration', REGISTRATION);
    const line = h.logs.lines().find((entry) => entry.msg === 'portal registered');
    assert.equal(line?.portal_id, 'portal-42');
    assert.ok(!h.logs.text().includes(REGISTRATION.authToken));
    assert.ok(!h.logs.text().includes(S_CODE));
  });

  it('keeps the first registration and refuses a second', async () => {
    h = await startHarness();
    assert.equal((await h.post('ConfirmRegistration', REGISTRATION)).status, 200);

    const second = await h.post('ConfirmRegistration', {
      settings: '',
      portalId: 'intruder',
      authToken: 'tok-intruder',
    });
    assert.equal(second.status, 409);
    assert.equal(second.body.error, 'registration_not_awaited');
    assert.ok(!JSON.stringify(second.body).includes(S_CODE));
    assert.equal((await h.store.getPortal())?.portalId, 'portal-42');
  });

  it('is refused when the operator configured the portal, and stores nothing', async () => {
    h = await startHarness({
      settings: { configuredPortal: { portalId: 'configured', authToken: 'tok-configured' } },
    });
    const reply = await h.post('ConfirmRegistration', REGISTRATION);
    assert.equal(reply.status, 409);
    assert.equal(await h.store.getPortal(), undefined);
  });

  it('accepts settings that are null or left out', async () => {
    h = await startHarness();
    const reply = await h.post('ConfirmRegistration', {
      portalId: 'p',
      authToken: 't',
      settings: null,
    });
    assert.equal(reply.status, 200);
  });

  const malformed: [string, Record<string, unknown>][] = [
    ['a portalId over 256 characters', { ...REGISTRATION, portalId: 'p'.repeat(257) }],
    ['an authToken over 256 characters', { ...REGISTRATION, authToken: 't'.repeat(257) }],
    ['no authToken', { settings: '', portalId: 'p' }],
    ['an empty portalId', { ...REGISTRATION, portalId: '' }],
    ['settings that are not text', { ...REGISTRATION, settings: 5 }],
  ];
  for (const [name, body] of malformed) {
    it(`refuses a body with ${name} and stores nothing`, async () => {
      h = await startHarness();
      const reply = await h.post('ConfirmRegistration', body);
      assert.equal(reply.status, 400);
      assert.equal(reply.body.error, 'invalid_request');
      assert.equal(await h.store.getPortal(), undefined);
    });
  }
});
