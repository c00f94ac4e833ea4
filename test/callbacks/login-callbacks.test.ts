/**
 * UpdatePicture and AuthorizedUser as the NoPass server sends them: in any property casing, with
 * the picture page hearing of every change through the bus, the first verdict final, and every
 * malformed or out-of-place call refused with a 400 that leaves the sign-in as it was.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { authRef } from '../../src/log.ts';
import type { LoginEvent } from '../../src/state/types.ts';
import { pngBase64 } from '../nopass/pictures.ts';
import { IMAGE, START, startHarness, type Harness } from './harness.ts';

const NEW_IMAGE = pngBase64(6, 6, 4);

let h: Harness;
let events: LoginEvent[];
let unsubscribe: () => void;

before(async () => {
  h = await startHarness();
});
after(() => h.close());
beforeEach(async () => {
  h.clock.now = START;
  events = [];
  await h.addLogin('auth-1');
  unsubscribe = h.bus.subscribe('auth-1', (event) => events.push(event));
});
afterEach(() => unsubscribe());

/** Lets the bus deliver what was published (it delivers on a later tick). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A unique authId per test, so logins from earlier tests never interfere. */
let counter = 0;
async function freshLogin(): Promise<string> {
  counter += 1;
  const authId = `auth-fresh-${counter}`;
  await h.addLogin(authId);
  return authId;
}

describe('UpdatePicture', () => {
  const casings: [string, (authId: string) => Record<string, unknown>][] = [
    ['camelCase', (authId) => ({ authId, image: NEW_IMAGE, nextChange: 20_000 })],
    ['PascalCase', (authId) => ({ AuthId: authId, Image: NEW_IMAGE, NextChange: 20_000 })],
    ['UPPER CASE', (authId) => ({ AUTHID: authId, IMAGE: NEW_IMAGE, NEXTCHANGE: 20_000 })],
    [
      'mixed, with nextChange as a string',
      (authId) => ({ authid: authId, iMaGe: NEW_IMAGE, nextchange: '20000' }),
    ],
  ];
  for (const [name, body] of casings) {
    it(`replaces the picture and sets a new deadline (${name})`, async () => {
      const authId = await freshLogin();
      h.clock.now = START + 10_000;

      const reply = await h.post('UpdatePicture', body(authId));

      assert.equal(reply.status, 200);
      assert.deepEqual(reply.body, {});
      const login = await h.store.getLogin(authId);
      assert.equal(login?.image, NEW_IMAGE);
      assert.equal(login?.nextChange, 20_000);
      assert.equal(login?.pictureSeq, 2);
      assert.equal(login?.deadline, START + 10_000 + 20_000 + h.settings.pictureGraceMs);
    });
  }

  it('tells the waiting page through the bus', async () => {
    await h.post('UpdatePicture', { authId: 'auth-1', image: NEW_IMAGE, nextChange: 20_000 });
    await settle();
    assert.deepEqual(events, [{ authId: 'auth-1', kind: 'picture' }]);
  });

  it('refuses an unknown authId', async () => {
    const reply = await h.post('UpdatePicture', {
      authId: 'nobody',
      image: NEW_IMAGE,
      nextChange: 1,
    });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error, 'unknown_auth_id');
  });

  it('refuses a picture for a sign-in that already has its verdict', async () => {
    assert.equal(
      (await h.post('AuthorizedUser', { authId: 'auth-1', isAuthorized: true })).status,
      200,
    );

    const reply = await h.post('UpdatePicture', {
      authId: 'auth-1',
      image: NEW_IMAGE,
      nextChange: 1000,
    });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error, 'login_settled');
    assert.equal((await h.store.getLogin('auth-1'))?.image, IMAGE);
  });

  it('refuses a picture for a sign-in whose time ran out', async () => {
    const login = await h.store.getLogin('auth-1');
    h.clock.now = (login?.deadline ?? 0) + 1;

    const reply = await h.post('UpdatePicture', {
      authId: 'auth-1',
      image: NEW_IMAGE,
      nextChange: 1000,
    });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error, 'login_expired');
  });

  const malformed: [string, Record<string, unknown>][] = [
    ['no authId', { image: NEW_IMAGE, nextChange: 1000 }],
    ['an empty authId', { authId: '', image: NEW_IMAGE, nextChange: 1000 }],
    ['a numeric authId', { authId: 12, image: NEW_IMAGE, nextChange: 1000 }],
    [
      'an authId over 256 characters',
      { authId: 'a'.repeat(257), image: NEW_IMAGE, nextChange: 1000 },
    ],
    ['no image', { authId: 'auth-1', nextChange: 1000 }],
    [
      'an image that is not a PNG',
      { authId: 'auth-1', image: Buffer.from('hello').toString('base64'), nextChange: 1000 },
    ],
    ['an image that is not base64', { authId: 'auth-1', image: '***', nextChange: 1000 }],
    ['a truncated PNG', { authId: 'auth-1', image: NEW_IMAGE.slice(0, 80), nextChange: 1000 }],
    ['no nextChange', { authId: 'auth-1', image: NEW_IMAGE }],
    ['nextChange of zero', { authId: 'auth-1', image: NEW_IMAGE, nextChange: 0 }],
    ['a negative nextChange', { authId: 'auth-1', image: NEW_IMAGE, nextChange: -5 }],
    ['a fractional nextChange', { authId: 'auth-1', image: NEW_IMAGE, nextChange: 1.5 }],
    ['nextChange as words', { authId: 'auth-1', image: NEW_IMAGE, nextChange: 'soon' }],
    ['nextChange over an hour', { authId: 'auth-1', image: NEW_IMAGE, nextChange: 3_600_001 }],
    [
      'authId twice in two casings',
      { authId: 'auth-1', AuthId: 'auth-2', image: NEW_IMAGE, nextChange: 1 },
    ],
  ];
  for (const [name, body] of malformed) {
    it(`refuses a body with ${name} and changes nothing`, async () => {
      const reply = await h.post('UpdatePicture', body);
      assert.equal(reply.status, 400);
      assert.equal(reply.body.error, 'invalid_request');
      assert.equal(typeof reply.body.error_description, 'string');
      const login = await h.store.getLogin('auth-1');
      assert.equal(login?.image, IMAGE);
      assert.equal(login?.pictureSeq, 1);
      await settle();
      assert.deepEqual(events, []);
    });
  }

  it('names the wrong field without echoing its value', async () => {
    const reply = await h.post('UpdatePicture', {
      authId: 'a'.repeat(300),
      image: NEW_IMAGE,
      nextChange: 1,
    });
    assert.match(String(reply.body.error_description), /authId/);
    assert.ok(!String(reply.body.error_description).includes('a'.repeat(300)));
  });
});

describe('AuthorizedUser', () => {
  it('records an approval in any casing and tells the waiting page', async () => {
    const reply = await h.post('AuthorizedUser', { AuthId: 'auth-1', IsAuthorized: true });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, {});

    const login = await h.store.getLogin('auth-1');
    assert.equal(login?.verdict, 'approved');
    assert.equal(login?.verdictAt, START);
    await settle();
    assert.deepEqual(events, [{ authId: 'auth-1', kind: 'verdict' }]);
  });

  it('records a refusal with its reason as given', async () => {
    const reason = '<b>Declined</b> on the phone';
    const reply = await h.post('AUTHORIZEDUSER', {
      AUTHID: 'auth-1',
      ISAUTHORIZED: false,
      REASON: reason,
    });
    assert.equal(reply.status, 200);
    const login = await h.store.getLogin('auth-1');
    assert.equal(login?.verdict, 'refused');
    assert.equal(login?.reason, reason);
  });

  it('accepts a null reason', async () => {
    const reply = await h.post('AuthorizedUser', {
      authId: 'auth-1',
      isAuthorized: true,
      reason: null,
    });
    assert.equal(reply.status, 200);
    assert.equal((await h.store.getLogin('auth-1'))?.reason, undefined);
  });

  it('keeps the first verdict: a later refusal is refused and changes nothing', async () => {
    assert.equal(
      (await h.post('AuthorizedUser', { authId: 'auth-1', isAuthorized: true })).status,
      200,
    );

    const second = await h.post('AuthorizedUser', {
      authId: 'auth-1',
      isAuthorized: false,
      reason: 'no',
    });
    assert.equal(second.status, 400);
    assert.equal(second.body.error, 'login_settled');

    const login = await h.store.getLogin('auth-1');
    assert.equal(login?.verdict, 'approved');
    assert.equal(login?.reason, undefined);
    await settle();
    assert.deepEqual(events, [{ authId: 'auth-1', kind: 'verdict' }]);
  });

  it('refuses an unknown authId', async () => {
    const reply = await h.post('AuthorizedUser', { authId: 'nobody', isAuthorized: true });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error, 'unknown_auth_id');
  });

  it('refuses a verdict that comes after the sign-in expired', async () => {
    const login = await h.store.getLogin('auth-1');
    h.clock.now = (login?.deadline ?? 0) + 1;
    const reply = await h.post('AuthorizedUser', { authId: 'auth-1', isAuthorized: true });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error, 'login_expired');
    h.clock.now = START;
    assert.equal((await h.store.getLogin('auth-1'))?.verdict, 'waiting');
  });

  const malformed: [string, Record<string, unknown>][] = [
    ['isAuthorized as the string "true"', { authId: 'auth-1', isAuthorized: 'true' }],
    ['isAuthorized as 1', { authId: 'auth-1', isAuthorized: 1 }],
    ['isAuthorized null', { authId: 'auth-1', isAuthorized: null }],
    ['no isAuthorized', { authId: 'auth-1' }],
    ['no authId', { isAuthorized: true }],
    [
      'a reason over 2084 characters',
      { authId: 'auth-1', isAuthorized: false, reason: 'r'.repeat(2085) },
    ],
    ['a reason that is not text', { authId: 'auth-1', isAuthorized: false, reason: { html: 1 } }],
  ];
  for (const [name, body] of malformed) {
    it(`refuses a body with ${name} and leaves the sign-in waiting`, async () => {
      const reply = await h.post('AuthorizedUser', body);
      assert.equal(reply.status, 400);
      assert.equal(reply.body.error, 'invalid_request');
      assert.equal((await h.store.getLogin('auth-1'))?.verdict, 'waiting');
    });
  }

  it('accepts a reason of exactly 2084 characters', async () => {
    const reply = await h.post('AuthorizedUser', {
      authId: 'auth-1',
      isAuthorized: false,
      reason: 'r'.repeat(2084),
    });
    assert.equal(reply.status, 200);
  });
});

describe('logging of sign-in callbacks', () => {
  it('logs one line per call with op, result and auth_ref, never raw values', async () => {
    const before = h.logs.lines().length;
    await h.post('UpdatePicture', { authId: 'auth-1', image: NEW_IMAGE, nextChange: 1000 });
    await h.post('AuthorizedUser', { authId: 'auth-1', isAuthorized: true });
    await h.post('AuthorizedUser', { authId: 'auth-1', isAuthorized: false });

    const lines = h.logs.lines().slice(before);
    assert.deepEqual(
      lines.map((line) => [line.callback_op, line.result, line.auth_ref]),
      [
        ['UpdatePicture', 'ok', authRef('auth-1')],
        ['AuthorizedUser', 'ok', authRef('auth-1')],
        ['AuthorizedUser', 'login_settled', authRef('auth-1')],
      ],
    );
    const text = h.logs.text();
    assert.ok(!text.includes('"auth-1"'), 'raw authId in the log');
    assert.ok(!text.includes(NEW_IMAGE.slice(0, 40)), 'image in the log');
  });
});
