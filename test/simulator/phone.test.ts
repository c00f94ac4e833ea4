// The phone page: a person types a user id, sees the sign-ins waiting for it with the same
// picture the website shows, and approves or refuses with a plain HTML form.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN_ID,
  control,
  S_CODE,
  setup,
  startAuth,
  startTestPortal,
  type Setup,
} from './helpers.ts';

function form(url: string, fields: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

describe('phone page', () => {
  let s: Setup;

  before(async () => {
    s = await setup({ nextChangeMs: 60_000, users: ['<script>alert(1)</script>'] });
  });

  after(() => s.close());

  it('says it is a simulator for development and asks for a user id', async () => {
    const root = await fetch(`${s.url}/`, { redirect: 'manual' });
    assert.equal(root.headers.get('location'), '/phone');

    const page = await fetch(`${s.url}/phone`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await page.text();
    assert.match(html, /NoPass simulator/);
    assert.match(html, /for development only/);
    assert.match(html, /<form[^>]*method="get"[^>]*action="\/phone"/);
    assert.match(html, /name="userId"/);
  });

  it('lists a pending sign-in with its picture; approving reaches the portal', async () => {
    const { authId, image } = await startAuth(s);
    const page = await fetch(`${s.url}/phone?userId=demo`);
    const html = await page.text();
    assert.match(html, /Test Portal/);
    assert.ok(html.includes(`data:image/png;base64,${image}`), 'the picture the website shows');
    assert.match(html, /<meta http-equiv="refresh" content="\d+"/);
    const action = `/phone/auths/${authId}/approve`;
    assert.ok(html.includes(`action="${action}"`), 'an approve form for it');

    const reply = await form(`${s.url}${action}`);
    assert.equal(reply.status, 303);
    assert.equal(reply.headers.get('location'), '/phone?userId=demo&done=approved');
    const verdict = await s.portal.waitFor('AuthorizedUser', (c) => c.body.authId === authId);
    assert.equal(verdict.body.isAuthorized, true);

    const after = await (await fetch(`${s.url}/phone?userId=demo&done=approved`)).text();
    assert.match(after, /Approved/);
    assert.ok(!after.includes(authId), 'a decided sign-in is no longer listed');
  });

  it('refuses with the reason typed on the phone', async () => {
    const { authId } = await startAuth(s);
    const reply = await form(`${s.url}/phone/auths/${authId}/refuse`, { reason: 'Not me' });
    assert.equal(reply.status, 303);
    const verdict = await s.portal.waitFor('AuthorizedUser', (c) => c.body.authId === authId);
    assert.equal(verdict.body.isAuthorized, false);
    assert.equal(verdict.body.reason, 'Not me');
  });

  it('refuses with a reason of its own when the optional reason is left empty', async () => {
    const { authId } = await startAuth(s);
    // The page's form sends the empty field as it is.
    const reply = await form(`${s.url}/phone/auths/${authId}/refuse`, { reason: '' });
    assert.equal(reply.status, 303);
    const verdict = await s.portal.waitFor('AuthorizedUser', (c) => c.body.authId === authId);
    assert.equal(verdict.body.isAuthorized, false);
    assert.ok(String(verdict.body.reason).length > 0, 'NoPass always names a reason');
  });

  it('tells the person when the sign-in was already decided', async () => {
    const { authId } = await startAuth(s);
    await control(s.url, 'POST', `/auths/${authId}/approve`);
    const reply = await form(`${s.url}/phone/auths/${authId}/refuse`);
    assert.equal(reply.headers.get('location'), '/phone?userId=demo&done=gone');
    const page = await (await fetch(`${s.url}/phone?userId=demo&done=gone`)).text();
    assert.match(page, /no longer waiting/);
  });

  it('escapes every text it shows', async () => {
    const evil = await startTestPortal();
    try {
      const { authToken, portalId } = await s.simulator.registerPortal({
        webUrl: evil.url,
        adminId: ADMIN_ID,
        sCode: S_CODE,
        name: '<img src=x onerror=alert(2)>',
      });
      const userId = '<script>alert(1)</script>';
      const started = await fetch(`${s.url}/api/UserAuthentication/RequestAuthorization`, {
        method: 'POST',
        headers: { authorization: `Bearer ${authToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ portalId, userId }),
      });
      assert.equal(started.status, 200);
      const html = await (
        await fetch(`${s.url}/phone?userId=${encodeURIComponent(userId)}`)
      ).text();
      assert.ok(!html.includes('<script>alert(1)'), 'user id escaped');
      assert.ok(!html.includes('<img src=x'), 'portal name escaped');
      assert.ok(html.includes('&lt;script&gt;'));
    } finally {
      await evil.close();
    }
  });

  it('answers a JSON 404 for an unknown sign-in', async () => {
    const reply = await form(`${s.url}/phone/auths/unknown/approve`);
    assert.equal(reply.status, 404);
    assert.equal(((await reply.json()) as { error: string }).error, 'not_found');
  });
});
