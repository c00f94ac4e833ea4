// Fault knobs: a portal must survive a NoPass server that fails, answers garbage, is slow, or
// loses or repeats its callbacks. Each knob is set through the control API and checked over HTTP.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { control, operation, setup, startAuth, type Setup } from './helpers.ts';

const REQUEST_AUTHORIZATION = 'UserAuthentication/RequestAuthorization';

describe('fault knobs', () => {
  let s: Setup;
  const request = () =>
    operation(s, REQUEST_AUTHORIZATION, { portalId: s.portalId, userId: 'demo' });

  before(async () => {
    s = await setup({ nextChangeMs: 60_000 });
  });

  afterEach(async () => {
    await control(s.url, 'DELETE', '/faults');
  });

  after(() => s.close());

  it('failNext answers the next N operations with HTTP 500, then recovers', async () => {
    const set = await control(s.url, 'POST', '/faults', { failNext: 2 });
    assert.equal(set.status, 200);
    assert.equal(set.body.failNext, 2);

    for (let i = 0; i < 2; i += 1) {
      const failed = await request();
      assert.equal(failed.status, 500);
      assert.equal(failed.json().errors.length, 1);
    }
    assert.equal((await request()).status, 200);
    assert.equal((await control(s.url, 'GET', '/faults')).body.failNext, 0);
  });

  it('malformedNext html answers an HTML page once', async () => {
    await control(s.url, 'POST', '/faults', { malformedNext: 'html' });
    const spoiled = await request();
    assert.equal(spoiled.status, 200);
    assert.match(spoiled.contentType, /^text\/html/);
    assert.throws(() => spoiled.json(), SyntaxError);
    assert.equal((await request()).json().errors.length, 0, 'only the next one is spoiled');
  });

  it('malformedNext truncated answers half of the JSON', async () => {
    await control(s.url, 'POST', '/faults', { malformedNext: 'truncated' });
    const spoiled = await request();
    assert.equal(spoiled.status, 200);
    assert.ok(spoiled.text.startsWith('{"errors":[]'), spoiled.text.slice(0, 40));
    assert.throws(() => spoiled.json(), SyntaxError);
  });

  it('malformedNext envelope answers JSON without the envelope', async () => {
    await control(s.url, 'POST', '/faults', { malformedNext: 'envelope' });
    const spoiled = await request();
    const body = JSON.parse(spoiled.text) as Record<string, unknown>;
    assert.equal(body.errors, undefined);
    assert.equal(body.result, undefined);
    assert.equal(typeof body.data, 'object');
  });

  it('latencyMs delays every operation', async () => {
    await control(s.url, 'POST', '/faults', { latencyMs: 150 });
    const started = Date.now();
    assert.equal((await request()).status, 200);
    assert.ok(Date.now() - started >= 140);
  });

  it('dropCallbacks sends no AuthorizedUser and says so', async () => {
    await control(s.url, 'POST', '/faults', { dropCallbacks: true });
    const { authId } = await startAuth(s);
    const reply = await control(s.url, 'POST', `/auths/${authId}/approve`);
    assert.deepEqual(reply.body, { portalStatus: null });
    await sleep(50);
    assert.ok(!s.portal.calls.some((c) => c.op === 'AuthorizedUser' && c.body.authId === authId));
    const calls = await control<{ op: string; error?: string }[]>(s.url, 'GET', '/calls');
    assert.match(calls.body.at(-1)?.error ?? '', /dropCallbacks/);
  });

  it('repeatCallbacks sends each callback twice', async () => {
    await control(s.url, 'POST', '/faults', { repeatCallbacks: true });
    const { authId } = await startAuth(s);
    await control(s.url, 'POST', `/auths/${authId}/picture`);
    await control(s.url, 'POST', `/auths/${authId}/approve`);
    const mine = s.portal.calls.filter((c) => c.body.authId === authId);
    assert.deepEqual(
      mine.map((c) => c.op),
      ['UpdatePicture', 'UpdatePicture', 'AuthorizedUser', 'AuthorizedUser'],
    );
  });

  it('nextChangeMs and maxPictures override the picture settings until reset', async () => {
    const set = await control(s.url, 'POST', '/faults', { nextChangeMs: 1234, maxPictures: 2 });
    assert.equal(set.body.nextChangeMs, 1234);
    assert.equal(set.body.maxPictures, 2);
    assert.equal((await startAuth(s)).nextChange, 1234);
    const reset = await control(s.url, 'DELETE', '/faults');
    assert.equal(reset.body.nextChangeMs, 60_000);
    assert.equal((await startAuth(s)).nextChange, 60_000);
  });

  it('rejects unknown knobs and bad values with a 400 and a reason', async () => {
    for (const body of [
      { failNxt: 1 },
      { failNext: -1 },
      { malformedNext: 'xml' },
      { dropCallbacks: 'yes' },
    ]) {
      const reply = await control(s.url, 'POST', '/faults', body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(typeof reply.body.error_description, 'string');
    }
  });
});
