// What the portal receives while a person decides: a new picture every nextChange ms
// (UpdatePicture) until the last one, and the verdict (AuthorizedUser) when the phone approves
// or refuses through the control API.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { control, field, setup, startAuth, type Setup } from './helpers.ts';

interface Auth {
  authId: string;
  image: string;
  pictureSeq: number;
  status: string;
  reason?: string;
}

async function authState(s: Setup, authId: string): Promise<Auth | undefined> {
  const { body } = await control<Auth[]>(s.url, 'GET', '/auths');
  return body.find((auth) => auth.authId === authId);
}

describe('picture rotation', () => {
  let s: Setup;

  before(async () => {
    s = await setup({ nextChangeMs: 60, maxPictures: 3 });
  });

  after(() => s.close());

  it('sends each new picture to the portal as UpdatePicture, different every time', async () => {
    const first = await startAuth(s);
    const isMine = (c: { body: Record<string, unknown> }): boolean =>
      field(c.body, 'authId') === first.authId;
    const update = await s.portal.waitFor('UpdatePicture', isMine);
    assert.notEqual(update.body.image, first.image);
    assert.equal(update.body.nextChange, 60);
    assert.deepEqual(Object.keys(update.body).sort(), ['authId', 'image', 'nextChange']);

    // Picture 3 is the last: after it runs out the authentication stops and nothing follows.
    await sleep(300);
    const updates = s.portal.calls.filter((c) => c.op === 'UpdatePicture' && isMine(c));
    assert.equal(updates.length, 2);
    assert.notEqual(updates[0]?.body.image, updates[1]?.body.image);
    const state = await authState(s, first.authId);
    assert.equal(state?.pictureSeq, 3);
    assert.equal(state?.status, 'stopped');
    assert.equal(state?.image, updates[1]?.body.image);
  });

  it('rotates at once on request through the control API', async () => {
    const quick = await setup({ nextChangeMs: 60_000 });
    try {
      const { authId, image } = await startAuth(quick);
      const reply = await control(quick.url, 'POST', `/auths/${authId}/picture`);
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.body, { portalStatus: 200, pictureSeq: 2 });
      const update = await quick.portal.waitFor('UpdatePicture');
      assert.equal(field(update.body, 'authId'), authId);
      assert.notEqual(update.body.image, image);
    } finally {
      await quick.close();
    }
  });
});

describe('verdicts', () => {
  let s: Setup;

  before(async () => {
    s = await setup({ nextChangeMs: 100 });
  });

  after(() => s.close());

  it('approval reaches the portal as AuthorizedUser and stops the pictures', async () => {
    const { authId } = await startAuth(s);
    const reply = await control(s.url, 'POST', `/auths/${authId}/approve`);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { portalStatus: 200 });

    const verdict = await s.portal.waitFor('AuthorizedUser', (c) => c.body.authId === authId);
    assert.equal(verdict.body.isAuthorized, true);
    assert.equal(typeof verdict.body.reason, 'string');
    assert.equal((await authState(s, authId))?.status, 'approved');

    await sleep(250);
    const updates = s.portal.calls.filter(
      (c) => c.op === 'UpdatePicture' && c.body.authId === authId,
    );
    assert.equal(updates.length, 0, 'no picture after the verdict');
  });

  it('refusal reaches the portal with its reason', async () => {
    const { authId } = await startAuth(s);
    const reason = 'Not me <b>at all</b>';
    const reply = await control(s.url, 'POST', `/auths/${authId}/refuse`, { reason });
    assert.equal(reply.status, 200);
    const verdict = await s.portal.waitFor('AuthorizedUser', (c) => c.body.authId === authId);
    assert.equal(verdict.body.isAuthorized, false);
    assert.equal(verdict.body.reason, reason);
    const state = await authState(s, authId);
    assert.equal(state?.status, 'refused');
    assert.equal(state?.reason, reason);
  });

  it("reports the portal's own status for the verdict", async () => {
    const { authId } = await startAuth(s);
    s.portal.behaviour.status = { AuthorizedUser: 400 };
    const reply = await control(s.url, 'POST', `/auths/${authId}/refuse`);
    s.portal.behaviour.status = {};
    assert.deepEqual(reply.body, { portalStatus: 400 });
  });

  it('refuses a second verdict and an unknown authId', async () => {
    const { authId } = await startAuth(s);
    await control(s.url, 'POST', `/auths/${authId}/approve`);
    const twice = await control(s.url, 'POST', `/auths/${authId}/refuse`);
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error, 'conflict');
    const unknown = await control(s.url, 'POST', '/auths/nope/approve');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'not_found');
  });

  it('delivers a verdict after the pictures ran out, for testing late verdicts', async () => {
    const late = await setup({ nextChangeMs: 30, maxPictures: 1 });
    try {
      const { authId } = await startAuth(late);
      await sleep(100);
      assert.equal((await authState(late, authId))?.status, 'stopped');
      const reply = await control(late.url, 'POST', `/auths/${authId}/approve`);
      assert.equal(reply.status, 200);
      await late.portal.waitFor('AuthorizedUser');
    } finally {
      await late.close();
    }
  });

  it('calls the portal in PascalCase when asked to', async () => {
    const pascal = await setup({ nextChangeMs: 40, callbackCasing: 'pascal' });
    try {
      const { authId } = await startAuth(pascal);
      const update = await pascal.portal.waitFor('UpdatePicture');
      assert.deepEqual(Object.keys(update.body).sort(), ['AuthId', 'Image', 'NextChange']);
      await control(pascal.url, 'POST', `/auths/${authId}/approve`);
      const verdict = await pascal.portal.waitFor('AuthorizedUser');
      assert.deepEqual(Object.keys(verdict.body).sort(), ['AuthId', 'IsAuthorized', 'Reason']);
      assert.equal(verdict.body.IsAuthorized, true);
    } finally {
      await pascal.close();
    }
  });
});
