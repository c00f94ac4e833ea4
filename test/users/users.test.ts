/**
 * The user directory end to end: claims by scope in the ID token and at userinfo, UpdateUser
 * and DeleteUser sent by the simulator on its own initiative, and what a deletion revokes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser, last } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startHarness,
  type Harness,
} from '../helpers/harness.ts';
import type { UserRecord } from '../../src/state/types.ts';

let users = 0;

/** A user in the directory and known to the simulator, with a full profile. */
async function knownUser(h: Harness, overrides: Partial<UserRecord> = {}): Promise<string> {
  users += 1;
  const userId = `member-${users}`;
  await h.bridge.store.createUser({
    userId,
    profile: {
      givenName: 'Grace',
      surName: 'Hopper',
      email: 'grace@example.com',
      phoneNumber: '+1 555 0100',
      profileImageUrl: 'https://pictures.example.com/grace.png',
      locale: 'en-US',
    },
    emailVerified: false,
    phoneNumberVerified: false,
    createdAt: Date.now(),
    ...overrides,
  });
  const added = await h.control('/control/users', { userId });
  assert.equal(added.status, 200);
  return userId;
}

/** A whole sign-in with `scope`; returns the tokens and the browser (which holds the session). */
async function signIn(h: Harness, userId: string, scope: string, browser = new Browser()) {
  const request = await authorizationRequest(h.rp, { scope, login_hint: userId });
  const hops = await browser.follow(request.url.href);
  const picture = last(hops);
  assert.match(picture.url, /\/picture$/, `the picture page, got ${picture.status}`);
  const [auth] = await h.auths(userId);
  assert.ok(auth);
  await h.control(`/control/auths/${auth.authId}/approve`);
  const final = last(await browser.follow(picture.url, RP_REDIRECT));
  assert.ok(final.location?.startsWith(RP_REDIRECT));
  const tokens = await oidc.authorizationCodeGrant(h.rp, new URL(final.location!), {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  return { tokens, browser };
}

const PROFILE_CLAIMS = [
  'name',
  'given_name',
  'family_name',
  'locale',
  'picture',
  'preferred_username',
];

describe('claims by scope', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());

  it('advertises exactly the claims the directory can fill', async () => {
    const response = await fetch(`${h.issuer}/.well-known/openid-configuration`);
    const metadata = (await response.json()) as {
      claims_supported: string[];
      scopes_supported: string[];
    };
    assert.deepEqual(
      [...metadata.claims_supported].sort(),
      [
        'sub',
        ...PROFILE_CLAIMS,
        'email',
        'email_verified',
        'phone_number',
        'phone_number_verified',
        // Always there: issuer and timing claims of every token.
        ...metadata.claims_supported.filter((claim) =>
          ['acr', 'auth_time', 'iss', 'sid', 'amr'].includes(claim),
        ),
      ].sort(),
    );
    for (const scope of ['openid', 'profile', 'email', 'phone']) {
      assert.ok(metadata.scopes_supported.includes(scope), scope);
    }
  });

  it('gives openid only the subject', async () => {
    const userId = await knownUser(h);
    const { tokens } = await signIn(h, userId, 'openid');
    const claims = tokens.claims()!;
    assert.equal(claims.sub, userId);
    for (const claim of [...PROFILE_CLAIMS, 'email', 'phone_number']) {
      assert.equal(claims[claim], undefined, claim);
    }
    const userinfo = await oidc.fetchUserInfo(h.rp, tokens.access_token, userId);
    assert.deepEqual(Object.keys(userinfo), ['sub']);
  });

  it('gives each scope its claims, in the ID token and at userinfo', async () => {
    const userId = await knownUser(h);
    const { tokens } = await signIn(h, userId, 'openid profile email');
    const claims = tokens.claims()!;
    const userinfo = await oidc.fetchUserInfo(h.rp, tokens.access_token, userId);
    for (const seen of [claims, userinfo]) {
      assert.equal(seen.name, 'Grace Hopper');
      assert.equal(seen.given_name, 'Grace');
      assert.equal(seen.family_name, 'Hopper');
      assert.equal(seen.locale, 'en-US');
      assert.equal(seen.picture, 'https://pictures.example.com/grace.png');
      assert.equal(seen.preferred_username, userId);
      assert.equal(seen.email, 'grace@example.com');
      assert.equal(seen.email_verified, false, 'nobody vouched for it');
      assert.equal(seen.phone_number, undefined, 'phone was not asked for');
    }

    const phone = await signIn(h, userId, 'openid phone');
    const phoneClaims = phone.tokens.claims()!;
    assert.equal(phoneClaims.phone_number, '+1 555 0100');
    assert.equal(phoneClaims.phone_number_verified, false);
    assert.equal(phoneClaims.email, undefined);
    assert.equal(phoneClaims.name, undefined);
  });

  it('leaves out what a user does not have', async () => {
    // Signed in before the directory knew anything but the user id.
    const { tokens } = await signIn(h, 'demo', 'openid profile email phone');
    const claims = tokens.claims()!;
    assert.equal(claims.preferred_username, 'demo');
    for (const claim of ['name', 'email', 'email_verified', 'phone_number', 'picture']) {
      assert.equal(claims[claim], undefined, claim);
    }
  });
});

describe('UpdateUser from NoPass', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());

  async function update(userId: string, body: Record<string, unknown>) {
    const response = await h.control(`/control/users/${userId}/update`, body);
    assert.equal(response.status, 200);
    return (await response.json()) as { portalStatus: number; portalBody: { error?: string } };
  }

  it('applies new values as vouched for, and forbiddenStore removes the stored one', async () => {
    const userId = await knownUser(h);
    const reply = await update(userId, {
      updates: {
        email: { newValue: 'grace@navy.example', forbiddenStore: false },
        phoneNumber: { newValue: '+1 555 0199', forbiddenStore: true },
        surName: { newValue: 'Hopper-Murray', forbiddenStore: false },
        locale: { newValue: null, forbiddenStore: false },
      },
    });
    assert.equal(reply.portalStatus, 200);

    const user = await h.bridge.store.getUser(userId);
    assert.equal(user?.profile.email, 'grace@navy.example');
    assert.equal(user?.emailVerified, true, 'NoPass sent it');
    assert.equal(user?.profile.phoneNumber, undefined, 'forbiddenStore: not kept at all');
    assert.equal(user?.phoneNumberVerified, false);
    assert.equal(user?.profile.surName, 'Hopper-Murray');
    assert.equal(user?.profile.locale, undefined, 'an empty value clears the field');

    const { tokens } = await signIn(h, userId, 'openid profile email phone');
    const claims = tokens.claims()!;
    assert.equal(claims.email, 'grace@navy.example');
    assert.equal(claims.email_verified, true);
    assert.equal(claims.family_name, 'Hopper-Murray');
    assert.equal(claims.phone_number, undefined);
  });

  it('refuses another portal, an unknown user, a new login and a bad value, changing nothing', async () => {
    const userId = await knownUser(h);
    const before = await h.bridge.store.getUser(userId);
    const cases: [Record<string, unknown>, string, string][] = [
      [
        { updates: { email: { newValue: 'x@example.com' } }, sendPortalId: 'someone-else' },
        userId,
        'wrong_portal',
      ],
      [{ updates: { email: { newValue: 'x@example.com' } } }, 'nobody-here', 'unknown_user'],
      [
        { updates: { login: { newValue: 'grace2' }, email: { newValue: 'x@example.com' } } },
        userId,
        'login_change_not_supported',
      ],
      [{ updates: { email: { newValue: 'not an address' } } }, userId, 'invalid_request'],
      [
        { updates: { email: { newValue: 'x@example.com', forbiddenStore: 'yes' } } },
        userId,
        'invalid_request',
      ],
    ];
    for (const [body, target, code] of cases) {
      const reply = await update(target, body);
      assert.equal(reply.portalStatus, 400, code);
      assert.equal(reply.portalBody.error, code);
    }
    assert.deepEqual(await h.bridge.store.getUser(userId), before);
  });
});

describe('DeleteUser from NoPass', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());

  it('refuses another portal, then deletes the user and revokes what they were issued', async () => {
    const userId = await knownUser(h);
    const { tokens, browser } = await signIn(h, userId, 'openid profile');
    assert.equal((await oidc.fetchUserInfo(h.rp, tokens.access_token, userId)).sub, userId);
    const { grantIds, sessionIds } = await h.bridge.store.accountRecords(userId);
    assert.equal(grantIds.length, 1, 'the grant is indexed under the account');
    assert.equal(sessionIds.length, 1, 'and so is the session');

    // The session lets the browser sign in again without the picture.
    const silent = await authorizationRequest(h.rp, { scope: 'openid' });
    const sso = last(await browser.follow(silent.url.href, RP_REDIRECT));
    assert.ok(sso.location?.startsWith(RP_REDIRECT), 'signed in from the session');

    const wrong = await h.control(`/control/users/${userId}/delete`, { sendPortalId: 'not-mine' });
    assert.equal(((await wrong.json()) as { portalStatus: number }).portalStatus, 400);
    assert.ok(await h.bridge.store.getUser(userId), 'nothing deleted');
    assert.equal((await oidc.fetchUserInfo(h.rp, tokens.access_token, userId)).sub, userId);

    const right = await h.control(`/control/users/${userId}/delete`, {});
    assert.equal(((await right.json()) as { portalStatus: number }).portalStatus, 200);
    assert.equal(await h.bridge.store.getUser(userId), undefined, 'the user is gone');
    await assert.rejects(
      oidc.fetchUserInfo(h.rp, tokens.access_token, userId),
      'the access token no longer works',
    );
    assert.equal(await h.bridge.store.oidcAdapter('Grant').find(grantIds[0]!), undefined);
    assert.equal(await h.bridge.store.oidcAdapter('Session').find(sessionIds[0]!), undefined);
    assert.deepEqual(await h.bridge.store.accountRecords(userId), { grantIds: [], sessionIds: [] });

    const after = await authorizationRequest(h.rp, { scope: 'openid' });
    const form = last(await browser.follow(after.url.href));
    assert.equal(form.status, 200, 'the browser has to sign in again');
    assert.match(form.url, /\/interaction\/[\w-]+$/);

    const again = await h.control(`/control/users/${userId}/delete`, {});
    assert.equal(
      ((await again.json()) as { portalStatus: number }).portalStatus,
      200,
      'a repeated DeleteUser is answered 200',
    );
  });
});
