// Portal registration: the ConfirmPreRegistration / ConfirmRegistration handshake, as the
// simulator runs it against a real portal, and every way a portal can get it wrong.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSimulator, PortalRegistrationError } from '../../src/simulator/index.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { ADMIN_ID, control, field, S_CODE, startTestPortal, type TestPortal } from './helpers.ts';

describe('portal registration', () => {
  let simulator: Simulator;
  let url: string;
  const portals: TestPortal[] = [];

  before(async () => {
    simulator = createSimulator();
    ({ url } = await simulator.listen(0));
  });

  after(async () => {
    await simulator.close();
    await Promise.all(portals.map((portal) => portal.close()));
  });

  async function portal(...args: Parameters<typeof startTestPortal>): Promise<TestPortal> {
    const started = await startTestPortal(...args);
    portals.push(started);
    return started;
  }

  it('runs the handshake and hands the portal its portalId and authToken', async () => {
    const p = await portal({}, '/nopass-callbacks');
    const credentials = await simulator.registerPortal({
      webUrl: p.url,
      adminId: ADMIN_ID,
      sCode: S_CODE,
    });

    const pre = await p.waitFor('ConfirmPreRegistration');
    assert.equal(field(pre.body, 'adminId'), ADMIN_ID);
    assert.ok(Number.isInteger(field(pre.body, 'r')));

    const registration = p.registration ?? {};
    assert.equal(field(registration, 'portalId'), credentials.portalId);
    assert.equal(field(registration, 'authToken'), credentials.authToken);
    assert.ok(credentials.authToken.length >= 32, 'the authToken is long');
    const settings = field(registration, 'settings');
    assert.equal(typeof settings, 'string');
    assert.equal(typeof JSON.parse(settings as string), 'object');
    assert.deepEqual(
      p.calls.map((call) => call.op),
      ['ConfirmPreRegistration', 'ConfirmRegistration'],
    );
  });

  it('registers through the control API too', async () => {
    const p = await portal();
    const reply = await control<{ portalId: string; authToken: string }>(url, 'POST', '/portals', {
      webUrl: p.url,
      adminId: ADMIN_ID,
      sCode: S_CODE,
      name: 'Shop',
    });
    assert.equal(reply.status, 200);
    assert.equal(typeof reply.body.portalId, 'string');
    assert.equal(typeof reply.body.authToken, 'string');
    const listed = await control<{ portalId: string; name: string }[]>(url, 'GET', '/portals');
    assert.ok(listed.body.some((x) => x.portalId === reply.body.portalId && x.name === 'Shop'));
    assert.ok(!JSON.stringify(listed.body).includes(reply.body.authToken), 'no token listed');
  });

  const failures: [string, Parameters<typeof startTestPortal>[0], RegExp][] = [
    ['a wrong S-code', { preSCode: 'Other-CODE-99' }, /ConfirmPreRegistration: sCode/],
    ['a wrong r', { rOffset: 1 }, /ConfirmPreRegistration: r is \d+, expected \d+/],
    ['a wrong adminId', { adminId: 'someone-else' }, /ConfirmPreRegistration: adminId/],
    [
      'a wrong S-code in ConfirmRegistration',
      { confirmSCode: 'Nope-1234' },
      /ConfirmRegistration:/,
    ],
  ];
  for (const [what, behaviour, message] of failures) {
    it(`fails when the portal answers ${what}`, async () => {
      const p = await portal(behaviour);
      await assert.rejects(
        simulator.registerPortal({ webUrl: p.url, adminId: ADMIN_ID, sCode: S_CODE }),
        (error: unknown) => error instanceof PortalRegistrationError && message.test(error.message),
      );
      const reply = await control(url, 'POST', '/portals', {
        webUrl: p.url,
        adminId: ADMIN_ID,
        sCode: S_CODE,
      });
      assert.equal(reply.status, 502);
      assert.equal(reply.body.error, 'portal_registration_failed');
      assert.match(String(reply.body.error_description), message);
      assert.ok(!String(reply.body.error_description).includes(S_CODE), 'no S-code in messages');
    });
  }

  it('fails clearly when the portal cannot be reached', async () => {
    const p = await portal();
    await p.close();
    const reply = await control(url, 'POST', '/portals', {
      webUrl: p.url,
      adminId: ADMIN_ID,
      sCode: S_CODE,
    });
    assert.equal(reply.status, 502);
    assert.match(String(reply.body.error_description), /did not answer/);
  });

  it('refuses credentials that break the guide rules before calling the portal', async () => {
    const p = await portal();
    const cases = [
      { webUrl: p.url, adminId: ADMIN_ID, sCode: 'short1A' },
      { webUrl: p.url, adminId: ADMIN_ID, sCode: 'alllowercase123' },
      { webUrl: p.url, adminId: 'x'.repeat(64), sCode: S_CODE },
      { webUrl: 'ftp://example.test', adminId: ADMIN_ID, sCode: S_CODE },
      { adminId: ADMIN_ID, sCode: S_CODE },
    ];
    for (const body of cases) {
      const reply = await control(url, 'POST', '/portals', body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(reply.body.error, 'invalid_request');
    }
    assert.equal(p.calls.length, 0);
  });

  it('calls portals in PascalCase when asked to', async () => {
    const pascal = createSimulator({ callbackCasing: 'pascal' });
    try {
      const p = await portal();
      await pascal.registerPortal({ webUrl: p.url, adminId: ADMIN_ID, sCode: S_CODE });
      assert.deepEqual(Object.keys(p.calls[0]?.body ?? {}).sort(), ['AdminId', 'R']);
      assert.deepEqual(Object.keys(p.registration ?? {}).sort(), [
        'AuthToken',
        'PortalId',
        'Settings',
      ]);
    } finally {
      await pascal.close();
    }
  });
});
