/**
 * Three bridge processes on one Redis behave as one service: a sign-in that changes instance on
 * every request completes, the picture page streaming from one instance hears the callbacks
 * another received, and one authorization code redeemed on two instances at once yields tokens
 * exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { RP_CLIENT, RP_REDIRECT } from '../helpers/harness.ts';
import {
  EventStream,
  finish,
  on,
  reachPicture,
  startDeployment,
  type Deployment,
} from './deployment.ts';

describe('three instances on one Redis', { timeout: 60_000 }, () => {
  let d: Deployment;
  before(async () => {
    d = await startDeployment(3);
  });
  after(() => d.stop());

  it('agree on signing keys generated at start, though they started together', async () => {
    const keySets = await Promise.all(
      d.instances.map(async (instance) => {
        const response = await fetch(`${instance.url}/jwks`);
        assert.equal(response.status, 200);
        return (await response.json()) as { keys: { kid: string }[] };
      }),
    );
    assert.ok(keySets[0]!.keys.length > 0);
    for (const keys of keySets) assert.deepEqual(keys, keySets[0]);
  });

  it('completes a sign-in that hops instance on every request', async () => {
    const [a, b, c] = d.instances as [never, never, never];
    const userId = await d.newUser();
    const signIn = await reachPicture(d, [a, b, c], userId);

    // The page streams from A; the NoPass callbacks land on B.
    const stream = await EventStream.open(signIn, a);
    const first = await stream.nextState();
    assert.equal(first.status, 'waiting');
    assert.equal(first.pictureSeq, 1);

    const authId = await d.onlyAuth(userId);
    const rotated = await d.control(`/control/auths/${authId}/picture`);
    assert.equal(((await rotated.json()) as { portalStatus: number }).portalStatus, 200);
    assert.equal((await stream.nextState()).pictureSeq, 2, 'B heard the picture, A shows it');

    await d.control(`/control/auths/${authId}/approve`);
    const approved = await stream.nextState();
    assert.equal(approved.status, 'approved');
    assert.equal(approved.next, `${new URL(signIn.interaction).pathname}/complete`);
    await stream.close();

    // Cookies set by one instance are read by the others: the cookie keys are shared too.
    const callback = await finish(signIn, [c, a, b]);
    assert.equal(callback.searchParams.get('iss'), d.issuer);

    d.routeTo(b);
    const tokens = await oidc.authorizationCodeGrant(d.rp, callback, {
      pkceCodeVerifier: signIn.verifier,
      expectedState: signIn.state,
      expectedNonce: signIn.nonce,
    });
    const claims = tokens.claims();
    assert.equal(claims?.sub, userId);
    assert.equal(claims?.iss, d.issuer);

    d.routeTo(c);
    const userinfo = await oidc.fetchUserInfo(d.rp, tokens.access_token, userId);
    assert.equal(userinfo.preferred_username, userId);
  });

  it('redeems one authorization code once when two instances race', async () => {
    const [a, b, c] = d.instances as [never, never, never];
    for (let round = 0; round < 3; round += 1) {
      const userId = await d.newUser();
      const signIn = await reachPicture(d, [c, a], userId);
      await d.control(`/control/auths/${await d.onlyAuth(userId)}/approve`);
      const callback = await finish(signIn, [b]);
      const code = callback.searchParams.get('code')!;

      const redeem = (instance: typeof a) =>
        fetch(on(instance, `${d.issuer}/token`), {
          method: 'POST',
          headers: {
            authorization: `Basic ${btoa(`${RP_CLIENT.client_id}:${RP_CLIENT.client_secret}`)}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code,
            redirect_uri: RP_REDIRECT,
            code_verifier: signIn.verifier,
          }),
        });
      const answers = await Promise.all([redeem(a), redeem(b)]);
      const statuses = answers.map((answer) => answer.status).sort();
      assert.deepEqual(statuses, [200, 400], `round ${round}: exactly one gets tokens`);
      const loser = answers.find((answer) => answer.status === 400)!;
      assert.equal(((await loser.json()) as { error: string }).error, 'invalid_grant');
      const winner = answers.find((answer) => answer.status === 200)!;
      assert.ok(((await winner.json()) as { id_token?: string }).id_token);
    }
  });
});
