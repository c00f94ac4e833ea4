/**
 * Trouble in a multi-instance deployment, with real processes and a real redis-server: Redis
 * stopped and started again in the middle of a sign-in, an instance shut down gracefully while
 * a browser streams from it, and an instance killed outright. In every case the browser's
 * sign-in carries on through another instance without anyone restarting anything.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RP_CLIENT, RP_REDIRECT } from '../helpers/harness.ts';
import { eventually } from '../state/conformance.ts';
import {
  EventStream,
  finish,
  on,
  reachPicture,
  startDeployment,
  type Deployment,
  type Instance,
} from './deployment.ts';

async function readiness(instance: Instance): Promise<{ status: number; reasons: string[] }> {
  const response = await fetch(`${instance.url}/readyz`);
  const body = (await response.json()) as { reasons: string[] };
  return { status: response.status, reasons: body.reasons };
}

describe('multi-instance faults', { timeout: 60_000 }, () => {
  let d: Deployment;
  let a: Instance;
  let b: Instance;
  before(async () => {
    d = await startDeployment(3);
    [a, b] = d.instances as [Instance, Instance];
  });
  after(() => d.stop());

  it('fails fast while Redis is down, then completes the sign-in once it is back', async () => {
    const c = d.instances[2]!;
    const userId = await d.newUser();
    const signIn = await reachPicture(d, [a, b, c], userId);
    const stream = await EventStream.open(signIn, a);
    assert.equal((await stream.nextState()).status, 'waiting');

    await d.redis.stop();
    await eventually(async () => {
      const ready = await readiness(c);
      assert.equal(ready.status, 503);
      assert.ok(ready.reasons.includes('store not reachable'), ready.reasons.join(', '));
    }, 5000);

    // A page: a clear 503 at once, not a hang.
    let started = Date.now();
    const page = await signIn.browser.get(on(c, `${signIn.interaction}/picture`));
    assert.equal(page.status, 503);
    assert.match(page.body, /temporarily unavailable/);
    assert.ok(Date.now() - started < 3000, 'answered within the command timeout');

    // oidc-provider's own endpoints answer the same 503: a page for the browser, JSON for
    // the relying party.
    started = Date.now();
    const authorize = await fetch(on(b, `${d.issuer}/auth?client_id=test-rp&response_type=code`));
    assert.equal(authorize.status, 503);
    assert.match(await authorize.text(), /temporarily unavailable/);
    const token = await fetch(on(b, `${d.issuer}/token`), {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${RP_CLIENT.client_id}:${RP_CLIENT.client_secret}`)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'any-code',
        redirect_uri: RP_REDIRECT,
        code_verifier: 'v'.repeat(43),
      }),
    });
    assert.equal(token.status, 503);
    assert.deepEqual(await token.json(), {
      error: 'store_unavailable',
      error_description:
        'The sign-in service is temporarily unavailable. Please try again in a moment.',
    });
    assert.ok(Date.now() - started < 3000);

    // A picture page connecting now is asked to come back later, not failed for good.
    const deferred = await fetch(on(b, `${signIn.interaction}/events`), {
      headers: { cookie: await signIn.browser.jar.getCookieString(signIn.interaction) },
    });
    assert.equal(deferred.status, 200);
    assert.match(await deferred.text(), /^retry: \d+\n\n$/);

    // A NoPass callback is refused with a clear 503 (NoPass sees "the portal refused").
    const authId = await d.onlyAuth(userId);
    const lostPicture = await d.control(`/control/auths/${authId}/picture`);
    assert.equal(((await lostPicture.json()) as { portalStatus: number }).portalStatus, 503);

    await d.redis.start();
    for (const instance of d.instances) {
      await eventually(async () => assert.equal((await readiness(instance)).status, 200), 10_000);
    }

    // The stream on A survived the outage, and A's bus subscribed again: the approval that
    // reaches B now is heard on A.
    const approve = await d.control(`/control/auths/${authId}/approve`);
    assert.equal(((await approve.json()) as { portalStatus: number }).portalStatus, 200);
    assert.equal((await stream.until('approved')).status, 'approved');
    await stream.close();
    const callback = await finish(signIn, [c, a]);
    assert.ok(callback.searchParams.get('code'));
  });

  it('on SIGTERM, ends open streams with a reconnect hint and exits within 10 s', async () => {
    const c = d.instances[2]!;
    const userId = await d.newUser();
    const signIn = await reachPicture(d, [c], userId);
    const stream = await EventStream.open(signIn, c);
    assert.equal((await stream.nextState()).pictureSeq, 1);

    const stopping = c.stop('SIGTERM');
    const hint = await stream.next();
    assert.equal(hint?.retry, 1000, 'told to reconnect shortly');
    assert.equal(await stream.next(), undefined, 'then the stream ends');
    const { code, ms } = await stopping;
    assert.equal(code, 0, c.output());
    assert.ok(ms < 10_000, `exited in ${ms} ms`);

    // The browser reconnects, through the load balancer, to another instance: state first.
    const resumed = await EventStream.open(signIn, a);
    assert.equal((await resumed.nextState()).pictureSeq, 1);
    await d.control(`/control/auths/${await d.onlyAuth(userId)}/approve`);
    assert.equal((await resumed.nextState()).status, 'approved');
    await resumed.close();
    assert.ok((await finish(signIn, [b])).searchParams.get('code'));
  });

  it('when an instance is killed mid-sign-in, the stream resumes on another', async () => {
    const c = await d.respawn(2);
    const userId = await d.newUser();
    const signIn = await reachPicture(d, [a, c], userId);
    const stream = await EventStream.open(signIn, c);
    assert.equal((await stream.nextState()).status, 'waiting');
    const authId = await d.onlyAuth(userId);
    await d.control(`/control/auths/${authId}/picture`);
    assert.equal((await stream.nextState()).pictureSeq, 2);

    await c.stop('SIGKILL');
    assert.equal(await stream.next(), undefined, 'the connection is gone');

    const resumed = await EventStream.open(signIn, b);
    const current = await resumed.nextState();
    assert.equal(current.status, 'waiting');
    assert.equal(current.pictureSeq, 2, 'the current state comes first');
    await d.control(`/control/auths/${authId}/picture`);
    assert.equal((await resumed.nextState()).pictureSeq, 3);
    await d.control(`/control/auths/${authId}/approve`);
    assert.equal((await resumed.nextState()).status, 'approved');
    await resumed.close();
    assert.ok((await finish(signIn, [a, b])).searchParams.get('code'));
  });
});
