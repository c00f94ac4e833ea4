/**
 * The simulator's social network sign-in: RequestAuthorization with `social` answers a
 * `loginUrl` leading to its social sign-in page, where approving names the NoPass user in the
 * AuthorizedUser sent to the portal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { control, field, operation, setup, type Setup } from './helpers.ts';

async function socialStart(s: Setup, social: number, userId = '') {
  return operation(s, 'UserAuthentication/RequestAuthorization', {
    portalId: s.portalId,
    userId,
    social,
  });
}

function form(fields: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    redirect: 'manual',
  };
}

describe('simulator: social network sign-in', () => {
  let s: Setup;
  before(async () => {
    s = await setup({ nextChangeMs: 20_000 });
  });
  after(() => s.close());

  it('answers a loginUrl to its social page, and approving there names the user', async () => {
    const reply = await socialStart(s, 0);
    assert.equal(reply.status, 200, reply.text);
    const result = reply.json().result as { authId: string; loginUrl: string; image: string };
    assert.equal(result.loginUrl, `${s.url}/social/${result.authId}`);
    assert.ok(result.image, 'a picture as for any sign-in');

    const page = await fetch(result.loginUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Sign in with Google/);

    const unknown = await fetch(`${result.loginUrl}/approve`, form({ userId: 'stranger' }));
    assert.equal(unknown.status, 400, 'a user the portal does not know is refused');

    const approved = await fetch(`${result.loginUrl}/approve`, form({ userId: 'demo' }));
    assert.equal(approved.status, 303);
    const call = await s.portal.waitFor('AuthorizedUser', (c) => c.body.authId === result.authId);
    assert.equal(field(call.body, 'isAuthorized'), true);
    assert.equal(field(call.body, 'userId'), 'demo');

    const views = await control<{ authId: string; social?: string; status: string }[]>(
      s.url,
      'GET',
      '/auths',
    );
    const view = views.body.find((auth) => auth.authId === result.authId);
    assert.equal(view?.social, 'google');
    assert.equal(view?.status, 'approved');
  });

  it('uses Facebook for 1, and sends no userId with a refusal', async () => {
    const reply = await socialStart(s, 1);
    const { authId, loginUrl } = reply.json().result as { authId: string; loginUrl: string };
    assert.match(await (await fetch(loginUrl)).text(), /Sign in with Facebook/);
    const refused = await fetch(`${loginUrl}/refuse`, form({ reason: 'no' }));
    assert.equal(refused.status, 303);
    const call = await s.portal.waitFor('AuthorizedUser', (c) => c.body.authId === authId);
    assert.equal(field(call.body, 'isAuthorized'), false);
    assert.equal(field(call.body, 'userId'), undefined);
  });

  it('answers a null loginUrl when a user id is named, with social or without', async () => {
    const named = await socialStart(s, 0, 'demo');
    assert.equal(named.status, 200);
    assert.equal((named.json().result as { loginUrl: unknown }).loginUrl, null);
    const plain = await operation(s, 'UserAuthentication/RequestAuthorization', {
      portalId: s.portalId,
      userId: 'demo',
    });
    assert.equal((plain.json().result as { loginUrl: unknown }).loginUrl, null);
  });

  it('shows no social page for an ordinary sign-in', async () => {
    const plain = await operation(s, 'UserAuthentication/RequestAuthorization', {
      portalId: s.portalId,
      userId: 'demo',
    });
    const { authId } = plain.json().result as { authId: string };
    const page = await fetch(`${s.url}/social/${authId}`);
    assert.equal(page.status, 404);
  });
});
