// The control API's bookkeeping routes (users, authentications, the call log), its answers to
// bad input, and close(), which must leave nothing running.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { control, operation, setup, startAuth, type Setup } from './helpers.ts';

const REQUEST_AUTHORIZATION = 'UserAuthentication/RequestAuthorization';

describe('control API', () => {
  let s: Setup;

  before(async () => {
    s = await setup({ nextChangeMs: 60_000 });
  });

  after(() => s.close());

  it('adds a user to one portal or to every portal', async () => {
    const one = await control(s.url, 'POST', '/users', { portalId: s.portalId, userId: 'bob' });
    assert.equal(one.status, 200);
    await startAuth(s, 'bob');

    const all = await control(s.url, 'POST', '/users', { userId: 'carol' });
    assert.equal(all.status, 200);
    await startAuth(s, 'carol');

    const unknown = await control(s.url, 'POST', '/users', { portalId: 'nope', userId: 'dave' });
    assert.equal(unknown.status, 404);
    const bad = await control(s.url, 'POST', '/users', { userId: 'x'.repeat(37) });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.error_description), /userId/);
  });

  it('lists authentications, filtered by user id and status', async () => {
    await control(s.url, 'POST', '/users', { userId: 'erin' });
    const { authId, image } = await startAuth(s, 'erin');
    const mine = await control<Record<string, unknown>[]>(s.url, 'GET', '/auths?userId=erin');
    assert.deepEqual(mine.body, [
      {
        authId,
        userId: 'erin',
        portalId: s.portalId,
        image,
        nextChange: 60_000,
        pictureSeq: 1,
        status: 'waiting',
        closed: false,
      },
    ]);
    const all = await control<unknown[]>(s.url, 'GET', '/auths');
    assert.ok(all.body.length > 1);

    await control(s.url, 'POST', `/auths/${authId}/approve`);
    const waiting = await control<unknown[]>(s.url, 'GET', '/auths?userId=erin&status=waiting');
    assert.deepEqual(waiting.body, []);
    const approved = await control<{ authId: string }[]>(s.url, 'GET', '/auths?status=approved');
    assert.ok(approved.body.some((auth) => auth.authId === authId));
    const bad = await control(s.url, 'GET', '/auths?status=pending');
    assert.equal(bad.status, 400);
  });

  it('logs calls both ways, never with the authToken', async () => {
    await operation(s, REQUEST_AUTHORIZATION, { portalId: s.portalId, userId: 'demo' });
    const { body } = await control<
      { direction: string; op: string; portalId: string | null; status: number | null }[]
    >(s.url, 'GET', '/calls');
    const received = body.filter((c) => c.direction === 'received');
    const sent = body.filter((c) => c.direction === 'sent');
    assert.ok(received.some((c) => c.op === 'RequestAuthorization' && c.status === 200));
    assert.ok(received.every((c) => c.portalId === s.portalId));
    assert.deepEqual(
      sent.slice(0, 2).map((c) => [c.op, c.status]),
      [
        ['ConfirmPreRegistration', 200],
        ['ConfirmRegistration', 200],
      ],
    );
    assert.ok(!JSON.stringify(body).includes(s.authToken), 'authToken kept out of the log');

    assert.equal((await control(s.url, 'DELETE', '/calls')).status, 204);
    assert.deepEqual((await control(s.url, 'GET', '/calls')).body, []);
  });

  it('answers bad input with a 4xx and a JSON reason', async () => {
    const badJson = await fetch(`${s.url}/control/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"userId": ',
    });
    assert.equal(badJson.status, 400);
    const reason = (await badJson.json()) as { error: string; error_description: string };
    assert.equal(reason.error, 'invalid_request');
    assert.equal(typeof reason.error_description, 'string');

    const array = await control(s.url, 'POST', '/faults', [1]);
    assert.equal(array.status, 400);

    const unknown = await control(s.url, 'GET', '/nothing-here');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'not_found');

    const wrongMethod = await fetch(`${s.url}/control/calls`, { method: 'PUT' });
    assert.equal(wrongMethod.status, 405);
  });
});

describe('close()', () => {
  it('stops rotations and closes the servers it opened', async () => {
    const s = await setup({ nextChangeMs: 40 });
    await startAuth(s);
    await s.portal.waitFor('UpdatePicture');
    await s.simulator.close();
    const updates = s.portal.calls.filter((c) => c.op === 'UpdatePicture').length;
    await sleep(150);
    assert.equal(s.portal.calls.filter((c) => c.op === 'UpdatePicture').length, updates);
    await assert.rejects(fetch(`${s.url}/phone`));
    await s.portal.close();
  });
});
