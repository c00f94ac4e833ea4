/**
 * The store and bus contract, as one suite every implementation must pass (memory.test.ts and
 * redis.test.ts run it). A backend hands out handles onto the same shared state: for memory
 * the one process's store and bus, for Redis a new pair of connections each time, which is how
 * two instances of the bridge see each other. Races are run between two handles.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../helpers/eventually.ts';
import { AlreadyConsumed } from '../../src/state/errors.ts';
import type {
  Bus,
  LoginEvent,
  PendingLogin,
  PendingRegistration,
  Store,
  UserRecord,
} from '../../src/state/types.ts';

export interface StateHandle {
  store: Store;
  bus: Bus;
}

export interface StateBackend {
  /** A handle on the shared state; every handle sees what the others wrote. */
  open(): Promise<StateHandle>;
  /** Closes every handle and whatever the backend started. */
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export { eventually };

let counter = 0;
/** A unique id, so tests never see each other's records in the shared state. */
function unique(label: string): string {
  counter += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

function pendingLogin(overrides: Partial<PendingLogin> = {}): PendingLogin {
  const now = Date.now();
  return {
    authId: unique('auth'),
    interactionUid: unique('uid'),
    userId: 'alice',
    clientId: 'rp',
    image: 'iVBORw0KGgoAAAANSUhEUg==',
    nextChange: 20_000,
    pictureAt: now,
    pictureSeq: 1,
    deadline: now + 25_000,
    verdict: 'waiting',
    consumed: false,
    createdAt: now,
    ...overrides,
  };
}

const PICTURE = { image: 'bmV3IHBpY3R1cmU=', nextChange: 20_000 };

function pendingRegistration(overrides: Partial<PendingRegistration> = {}): PendingRegistration {
  const now = Date.now();
  return {
    otp: unique('otp'),
    id: unique('registration'),
    userId: unique('newcomer'),
    requested: { givenName: 'Ada', email: 'ada@typed.example' },
    status: 'started',
    browserRef: 'cmVm',
    interactionUid: unique('uid'),
    clientId: 'rp',
    createdAt: now,
    expiresAt: now + 120_000,
    ...overrides,
  };
}

function userRecord(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    userId: unique('user'),
    profile: { givenName: 'Grace', email: 'grace@example.test' },
    emailVerified: false,
    phoneNumberVerified: false,
    createdAt: 1000,
    ...overrides,
  };
}

const VALIDATED = {
  profile: { givenName: 'Ada', surName: 'Lovelace', email: 'ada@nopass.example' },
  emailVerified: true,
  phoneNumberVerified: false,
};

/** Declares the whole contract suite for one backend. */
export function runConformance(name: string, makeBackend: () => Promise<StateBackend>): void {
  describe(`${name}: store and bus contract`, { timeout: 30_000 }, () => {
    let backend: StateBackend;
    let a: StateHandle;
    let b: StateHandle;

    before(async () => {
      backend = await makeBackend();
      a = await backend.open();
      b = await backend.open();
    });
    after(() => backend.close());

    describe('pending logins', () => {
      it('keeps a login under its authId and finds the newest one of an interaction', async () => {
        const first = pendingLogin();
        await a.store.createLogin(first, 60_000);
        assert.deepEqual(await b.store.getLogin(first.authId), first);
        assert.deepEqual(await b.store.getLoginByInteraction(first.interactionUid), first);

        const second = pendingLogin({ interactionUid: first.interactionUid });
        await a.store.createLogin(second, 60_000);
        const found = await b.store.getLoginByInteraction(first.interactionUid);
        assert.equal(found?.authId, second.authId, 'the newest sign-in of the interaction');
        assert.deepEqual(await b.store.getLogin(first.authId), first, 'the older one stays');

        assert.equal(await b.store.getLogin(unique('unknown')), undefined);
        assert.equal(await b.store.getLoginByInteraction(unique('unknown')), undefined);
      });

      it('forgets a login, and its interaction index, after its time to live', async () => {
        const login = pendingLogin();
        await a.store.createLogin(login, 150);
        assert.ok(await b.store.getLogin(login.authId));
        await sleep(300);
        assert.equal(await b.store.getLogin(login.authId), undefined);
        assert.equal(await b.store.getLoginByInteraction(login.interactionUid), undefined);
      });

      it('replaces the picture of a waiting login and counts pictures', async () => {
        const login = pendingLogin();
        await a.store.createLogin(login, 60_000);
        const now = Date.now();
        const update = await b.store.updatePicture(
          login.authId,
          { ...PICTURE, deadline: now + 25_000 },
          now,
        );
        assert.ok(update.ok);
        assert.equal(update.login.pictureSeq, 2);
        assert.equal(update.login.image, PICTURE.image);
        assert.equal(update.login.pictureAt, now);
        assert.deepEqual(await a.store.getLogin(login.authId), update.login);
      });

      it('refuses a picture for an unknown, expired or settled login', async () => {
        const now = Date.now();
        const picture = { ...PICTURE, deadline: now + 25_000 };
        assert.deepEqual(await a.store.updatePicture(unique('unknown'), picture, now), {
          ok: false,
          reason: 'not_found',
        });

        const expired = pendingLogin({ deadline: now - 1 });
        await a.store.createLogin(expired, 60_000);
        assert.deepEqual(await b.store.updatePicture(expired.authId, picture, now), {
          ok: false,
          reason: 'expired',
        });

        const settled = pendingLogin();
        await a.store.createLogin(settled, 60_000);
        assert.ok((await a.store.settleLogin(settled.authId, false, 'no', now)).ok);
        assert.deepEqual(await b.store.updatePicture(settled.authId, picture, now), {
          ok: false,
          reason: 'settled',
        });
        assert.equal((await b.store.getLogin(settled.authId))?.pictureSeq, 1);
      });

      it('records the first verdict with its reason, and refuses every later one', async () => {
        const login = pendingLogin();
        await a.store.createLogin(login, 60_000);
        const now = Date.now();
        const refused = await a.store.settleLogin(login.authId, false, 'Not me', now);
        assert.ok(refused.ok);
        assert.equal(refused.login.verdict, 'refused');
        assert.equal(refused.login.reason, 'Not me');
        assert.equal(refused.login.verdictAt, now);

        const late = await b.store.settleLogin(login.authId, true, undefined, now);
        assert.deepEqual(late, { ok: false, reason: 'settled' });
        assert.equal((await b.store.getLogin(login.authId))?.verdict, 'refused');

        const approved = pendingLogin();
        await a.store.createLogin(approved, 60_000);
        const ok = await b.store.settleLogin(approved.authId, true, undefined, now);
        assert.ok(ok.ok);
        assert.deepEqual(await a.store.getLogin(approved.authId), ok.login);
        assert.equal('reason' in ok.login, false, 'no reason recorded for an approval');
      });

      it('refuses a verdict for an unknown or expired login', async () => {
        const now = Date.now();
        assert.deepEqual(await a.store.settleLogin(unique('unknown'), true, undefined, now), {
          ok: false,
          reason: 'not_found',
        });
        const expired = pendingLogin({ deadline: now - 1 });
        await a.store.createLogin(expired, 60_000);
        assert.deepEqual(await b.store.settleLogin(expired.authId, true, undefined, now), {
          ok: false,
          reason: 'expired',
        });
      });

      it('lets exactly one of two racing verdicts win', async () => {
        for (let round = 0; round < 5; round += 1) {
          const login = pendingLogin();
          await a.store.createLogin(login, 60_000);
          const now = Date.now();
          const [approve, refuse] = await Promise.all([
            a.store.settleLogin(login.authId, true, undefined, now),
            b.store.settleLogin(login.authId, false, 'Not me', now),
          ]);
          assert.equal([approve, refuse].filter((result) => result.ok).length, 1);
          const loser = approve.ok ? refuse : approve;
          assert.deepEqual(loser, { ok: false, reason: 'settled' });
          const stored = await a.store.getLogin(login.authId);
          assert.equal(stored?.verdict, approve.ok ? 'approved' : 'refused', 'the winner stays');
        }
      });

      it('uses an approval exactly once, even when consumers race', async () => {
        const waiting = pendingLogin();
        await a.store.createLogin(waiting, 60_000);
        assert.deepEqual(await a.store.consumeLogin(waiting.authId), {
          ok: false,
          reason: 'not_approved',
        });
        assert.deepEqual(await a.store.consumeLogin(unique('unknown')), {
          ok: false,
          reason: 'not_found',
        });

        const login = pendingLogin();
        await a.store.createLogin(login, 60_000);
        await b.store.settleLogin(login.authId, true, undefined, Date.now());
        const results = await Promise.all(
          [a, b, a, b].map((handle) => handle.store.consumeLogin(login.authId)),
        );
        const winners = results.filter((result) => result.ok);
        assert.equal(winners.length, 1, 'one consumer wins');
        assert.ok(winners[0]?.ok && winners[0].login.consumed);
        for (const result of results.filter((each) => !each.ok)) {
          assert.deepEqual(result, { ok: false, reason: 'consumed' });
        }
        assert.equal((await b.store.getLogin(login.authId))?.consumed, true);
      });

      it('keeps the original lifetime through changes', async () => {
        const login = pendingLogin();
        await a.store.createLogin(login, 300);
        await b.store.settleLogin(login.authId, true, undefined, Date.now());
        await a.store.consumeLogin(login.authId);
        await sleep(450);
        assert.equal(await b.store.getLogin(login.authId), undefined);
      });
    });

    describe('portal registration', () => {
      it('is stored once: the first registration wins, even when two race', async () => {
        // Shared by every test of this backend: whichever wrote first, nobody can overwrite.
        const [first, second] = await Promise.all([
          a.store.setPortalIfAbsent({ portalId: 'p-a', authToken: 't-a', registeredAt: 1 }),
          b.store.setPortalIfAbsent({ portalId: 'p-b', authToken: 't-b', registeredAt: 2 }),
        ]);
        assert.equal([first, second].filter(Boolean).length, 1);
        const stored = await b.store.getPortal();
        assert.equal(stored?.portalId, first ? 'p-a' : 'p-b');
        assert.deepEqual(await a.store.getPortal(), stored);
        assert.equal(
          await a.store.setPortalIfAbsent({ portalId: 'p-c', authToken: 't', registeredAt: 3 }),
          false,
        );
        assert.deepEqual(await b.store.getPortal(), stored);
      });
    });

    describe('users', () => {
      const fresh = (userId: string, at: number): UserRecord => ({
        userId,
        profile: {},
        emailVerified: false,
        phoneNumberVerified: false,
        createdAt: at,
        firstSignInAt: at,
        lastSignInAt: at,
      });

      it('creates a user on the first sign-in and moves lastSignInAt later', async () => {
        const userId = unique('user');
        assert.equal(await a.store.getUser(userId), undefined);
        assert.deepEqual(await a.store.recordSignIn(userId, 1000), fresh(userId, 1000));
        const later = { ...fresh(userId, 1000), lastSignInAt: 2000 };
        assert.deepEqual(await b.store.recordSignIn(userId, 2000), later);
        assert.deepEqual(await a.store.getUser(userId), later);
      });

      it('creates a user once when two first sign-ins race', async () => {
        const userId = unique('user');
        await Promise.all([a.store.recordSignIn(userId, 1000), b.store.recordSignIn(userId, 1000)]);
        assert.deepEqual(await a.store.getUser(userId), fresh(userId, 1000));
      });

      it('keeps the profile of a known user through sign-ins', async () => {
        const user = userRecord({ emailVerified: true, registeredAt: 500 });
        assert.equal(await a.store.createUser(user), true);
        const signed = await b.store.recordSignIn(user.userId, 3000);
        assert.deepEqual(signed, { ...user, firstSignInAt: 3000, lastSignInAt: 3000 });
      });

      it('creates a user only where none is, and replaces one on put', async () => {
        const user = userRecord();
        assert.equal(await a.store.createUser(user), true);
        assert.equal(await b.store.createUser({ ...user, profile: {} }), false);
        assert.deepEqual(await b.store.getUser(user.userId), user);

        const replaced = { ...user, profile: { locale: 'de' }, emailVerified: false };
        await b.store.putUser(replaced);
        assert.deepEqual(await a.store.getUser(user.userId), replaced);
      });

      it('changes a user atomically, even when two changes race', async () => {
        const user = userRecord({ lastSignInAt: 0 });
        await a.store.createUser(user);
        const bump = (record: UserRecord): UserRecord => ({
          ...record,
          lastSignInAt: (record.lastSignInAt ?? 0) + 1,
        });
        await Promise.all(
          [a, b, a, b, a, b].map((handle) => handle.store.changeUser(user.userId, bump)),
        );
        assert.equal((await a.store.getUser(user.userId))?.lastSignInAt, 6, 'no change lost');
        assert.equal(await b.store.changeUser(unique('nobody'), bump), undefined);
      });

      it('deletes a user, once, and lists users by id', async () => {
        const [first, second] = [userRecord(), userRecord()];
        await a.store.createUser(second);
        await b.store.createUser(first);
        const listed = (await a.store.listUsers()).map((user) => user.userId);
        const mine = listed.filter((id) => id === first.userId || id === second.userId);
        assert.deepEqual(mine, [first.userId, second.userId].sort());
        assert.deepEqual([...listed].sort(), listed, 'ordered by user id');

        assert.equal(await b.store.deleteUser(first.userId), true);
        assert.equal(await a.store.deleteUser(first.userId), false, 'gone already');
        assert.equal(await a.store.getUser(first.userId), undefined);
        const after = (await b.store.listUsers()).map((user) => user.userId);
        assert.ok(!after.includes(first.userId));
        assert.ok(after.includes(second.userId));
      });
    });

    describe('pending registrations', () => {
      it('keeps a registration under its otp and its id, for its time to live', async () => {
        const registration = pendingRegistration();
        await a.store.createRegistration(registration, 200);
        assert.deepEqual(await b.store.getRegistration(registration.otp), registration);
        assert.deepEqual(await b.store.getRegistrationById(registration.id), registration);
        assert.equal(await b.store.getRegistration(unique('otp')), undefined);
        assert.equal(await b.store.getRegistrationById(unique('id')), undefined);
        await sleep(350);
        assert.equal(await a.store.getRegistration(registration.otp), undefined);
        assert.equal(await a.store.getRegistrationById(registration.id), undefined);
      });

      it('records the policy verdict, and the last one counts until confirmation', async () => {
        const registration = pendingRegistration();
        await a.store.createRegistration(registration, 60_000);
        const refused = await b.store.settleRegistration(registration.otp, {
          accepted: false,
          refusal: 'email_domain',
        });
        assert.ok(refused.ok);
        assert.equal(refused.registration.status, 'refused');
        assert.equal(refused.registration.refusal, 'email_domain');

        const accepted = await a.store.settleRegistration(registration.otp, {
          accepted: true,
          validated: VALIDATED,
        });
        assert.ok(accepted.ok);
        assert.equal('refusal' in accepted.registration, false, 'no stale refusal');
        assert.deepEqual(await b.store.getRegistration(registration.otp), {
          ...registration,
          status: 'validated',
          validated: VALIDATED,
        });
        assert.deepEqual(
          await b.store.settleRegistration(unique('otp'), { accepted: false, refusal: 'x' }),
          { ok: false, reason: 'not_found' },
        );
      });

      it('confirms once: creates the user from the validated details, even when racing', async () => {
        const registration = pendingRegistration();
        await a.store.createRegistration(registration, 60_000);
        await a.store.settleRegistration(registration.otp, {
          accepted: true,
          validated: VALIDATED,
        });
        const results = await Promise.all(
          [a, b, a, b].map((handle) =>
            handle.store.confirmRegistration(registration.otp, 5000, 60_000),
          ),
        );
        const expected: UserRecord = {
          userId: registration.userId,
          profile: VALIDATED.profile,
          emailVerified: true,
          phoneNumberVerified: false,
          createdAt: 5000,
          registeredAt: 5000,
          registrationId: registration.id,
        };
        for (const result of results) {
          assert.ok(result.ok, JSON.stringify(result));
          assert.equal(result.registration.status, 'confirmed');
          assert.deepEqual(result.user, expected);
        }
        assert.deepEqual(await b.store.getUser(registration.userId), expected);
        const stored = await a.store.getRegistration(registration.otp);
        assert.equal(stored?.status, 'confirmed');
        assert.equal(stored?.confirmedAt, 5000);

        const late = await b.store.settleRegistration(registration.otp, {
          accepted: false,
          refusal: 'too_late',
        });
        assert.deepEqual(late, { ok: false, reason: 'confirmed' });
      });

      it('confirms without a verdict from what was typed, verified in nothing', async () => {
        const registration = pendingRegistration();
        await a.store.createRegistration(registration, 60_000);
        const result = await b.store.confirmRegistration(registration.otp, 7000, 60_000);
        assert.ok(result.ok);
        assert.deepEqual(result.user?.profile, registration.requested);
        assert.equal(result.user?.emailVerified, false);
      });

      it('refuses to confirm a refused, unknown or already taken registration', async () => {
        const refused = pendingRegistration();
        await a.store.createRegistration(refused, 60_000);
        await a.store.settleRegistration(refused.otp, { accepted: false, refusal: 'policy' });
        assert.deepEqual(await b.store.confirmRegistration(refused.otp, 1, 60_000), {
          ok: false,
          reason: 'refused',
        });
        assert.equal(await a.store.getUser(refused.userId), undefined, 'no user created');

        assert.deepEqual(await b.store.confirmRegistration(unique('otp'), 1, 60_000), {
          ok: false,
          reason: 'not_found',
        });

        const taken = userRecord();
        await a.store.createUser(taken);
        const late = pendingRegistration({ userId: taken.userId });
        await a.store.createRegistration(late, 60_000);
        assert.deepEqual(await b.store.confirmRegistration(late.otp, 1, 60_000), {
          ok: false,
          reason: 'user_exists',
        });
        assert.deepEqual(await a.store.getUser(taken.userId), taken, 'the user stays as it was');
      });

      it('lets one of two registrations of the same user id win', async () => {
        const userId = unique('contested');
        const [one, two] = [pendingRegistration({ userId }), pendingRegistration({ userId })];
        await a.store.createRegistration(one, 60_000);
        await a.store.createRegistration(two, 60_000);
        const results = await Promise.all([
          a.store.confirmRegistration(one.otp, 1, 60_000),
          b.store.confirmRegistration(two.otp, 1, 60_000),
        ]);
        assert.equal(results.filter((result) => result.ok).length, 1);
        assert.ok(results.some((result) => !result.ok && result.reason === 'user_exists'));
        const winner = results[0].ok ? one : two;
        assert.equal((await b.store.getUser(userId))?.registrationId, winner.id);
      });

      it('keeps a confirmed registration for the way back, which works once', async () => {
        const registration = pendingRegistration();
        await a.store.createRegistration(registration, 250);
        assert.deepEqual(await a.store.finishRegistration(registration.otp, 1), {
          ok: false,
          reason: 'not_confirmed',
        });
        assert.ok((await b.store.confirmRegistration(registration.otp, 1, 60_000)).ok);
        await sleep(400);
        assert.ok(await a.store.getRegistrationById(registration.id), 'kept past its first TTL');

        const results = await Promise.all(
          [a, b, a].map((handle) => handle.store.finishRegistration(registration.otp, 9)),
        );
        assert.equal(results.filter((result) => result.ok).length, 1, 'one return wins');
        for (const result of results.filter((each) => !each.ok)) {
          assert.deepEqual(result, { ok: false, reason: 'used' });
        }
        assert.equal((await b.store.getRegistration(registration.otp))?.returnedAt, 9);
      });
    });

    describe('portal re-registration window', () => {
      it('opens until a time, is claimed by one caller, and lets the portal be replaced', async () => {
        const now = Date.now();
        assert.equal(await a.store.claimPortalWindow(now), false, 'nothing to claim yet');
        await a.store.openPortalWindow(now + 60_000);
        assert.equal(await b.store.getPortalWindow(now), now + 60_000);
        assert.equal(await b.store.getPortalWindow(now + 60_000), undefined, 'over at its end');

        const claims = await Promise.all([
          a.store.claimPortalWindow(now),
          b.store.claimPortalWindow(now),
        ]);
        assert.deepEqual(claims.filter(Boolean), [true], 'exactly one claim wins');
        assert.equal(await a.store.getPortalWindow(now), undefined, 'closed by the claim');

        await b.store.replacePortal({ portalId: 'p-new', authToken: 't-new', registeredAt: 9 });
        assert.deepEqual(await a.store.getPortal(), {
          portalId: 'p-new',
          authToken: 't-new',
          registeredAt: 9,
        });

        await a.store.openPortalWindow(now - 1);
        assert.equal(await b.store.claimPortalWindow(now), false, 'an expired window is shut');
      });
    });

    describe('generated secrets', () => {
      it('creates a secret once and hands everyone the same value', async () => {
        const name = unique('secret');
        const first = await a.store.getOrCreateSecret(name, () => Promise.resolve('one'));
        const second = await b.store.getOrCreateSecret(name, () => Promise.resolve('two'));
        assert.equal(first, 'one');
        assert.equal(second, 'one');
      });

      it('agrees on one value when two instances start together', async () => {
        const name = unique('secret');
        const slow = (value: string) => async () => {
          await sleep(30);
          return value;
        };
        const values = await Promise.all([
          a.store.getOrCreateSecret(name, slow('from-a')),
          b.store.getOrCreateSecret(name, slow('from-b')),
          a.store.getOrCreateSecret(name, slow('from-a2')),
        ]);
        assert.equal(new Set(values).size, 1, `one value for all: ${values.join(', ')}`);
        assert.equal(await b.store.getOrCreateSecret(name, slow('late')), values[0]);
      });

      it('stores nothing when creating the secret fails', async () => {
        const name = unique('secret');
        await assert.rejects(
          a.store.getOrCreateSecret(name, () => Promise.reject(new Error('no entropy'))),
          /no entropy/,
        );
        assert.equal(await b.store.getOrCreateSecret(name, () => Promise.resolve('ok')), 'ok');
      });
    });

    describe('oidc-provider adapter', () => {
      it('finds what was saved, per model, as a copy', async () => {
        const id = unique('id');
        const payload = { accountId: 'alice', claims: { nested: [1, 2] }, empty: [], exp: 2e9 };
        await a.store.oidcAdapter('Session').upsert(id, payload, 60);
        const found = await b.store.oidcAdapter('Session').find(id);
        assert.deepEqual(found, payload);
        assert.equal(await b.store.oidcAdapter('Grant').find(id), undefined, 'models apart');
        assert.equal(await b.store.oidcAdapter('Session').find(unique('unknown')), undefined);

        found.accountId = 'mallory';
        assert.equal((await a.store.oidcAdapter('Session').find(id))?.accountId, 'alice');
      });

      it('replaces a record whole on upsert', async () => {
        const id = unique('id');
        const adapter = a.store.oidcAdapter('AuthorizationCode');
        await adapter.upsert(id, { grantId: 'g', scope: 'openid' }, 60);
        await adapter.consume(id);
        await adapter.upsert(id, { grantId: 'g', scope: 'openid profile' }, 60);
        assert.deepEqual(await b.store.oidcAdapter('AuthorizationCode').find(id), {
          grantId: 'g',
          scope: 'openid profile',
        });
      });

      it('finds records by uid and by user code', async () => {
        const id = unique('id');
        const uid = unique('session-uid');
        await a.store.oidcAdapter('Session').upsert(id, { uid, accountId: 'alice' }, 60);
        assert.deepEqual(await b.store.oidcAdapter('Session').findByUid(uid), {
          uid,
          accountId: 'alice',
        });
        assert.equal(await b.store.oidcAdapter('Session').findByUid(unique('nope')), undefined);

        const deviceId = unique('id');
        const userCode = unique('CODE');
        await a.store.oidcAdapter('DeviceCode').upsert(deviceId, { userCode, grantId: 'g' }, 60);
        assert.deepEqual(await b.store.oidcAdapter('DeviceCode').findByUserCode(userCode), {
          userCode,
          grantId: 'g',
        });
        assert.equal(await b.store.oidcAdapter('DeviceCode').findByUserCode('nope'), undefined);
      });

      it('consumes a record once: find shows when, a second consume is refused', async () => {
        const id = unique('code');
        await a.store.oidcAdapter('AuthorizationCode').upsert(id, { grantId: 'g' }, 60);
        const before = Math.floor(Date.now() / 1000);
        await b.store.oidcAdapter('AuthorizationCode').consume(id);
        const found = await a.store.oidcAdapter('AuthorizationCode').find(id);
        assert.equal(typeof found?.consumed, 'number');
        assert.ok((found!.consumed as number) >= before);
        await assert.rejects(a.store.oidcAdapter('AuthorizationCode').consume(id), AlreadyConsumed);
        // Consuming what does not exist changes nothing and creates nothing.
        const ghost = unique('code');
        await a.store.oidcAdapter('AuthorizationCode').consume(ghost);
        assert.equal(await b.store.oidcAdapter('AuthorizationCode').find(ghost), undefined);
      });

      it('lets exactly one of two racing redemptions consume a code', async () => {
        for (let round = 0; round < 5; round += 1) {
          const id = unique('code');
          await a.store.oidcAdapter('AuthorizationCode').upsert(id, { grantId: 'g' }, 60);
          const results = await Promise.allSettled([
            a.store.oidcAdapter('AuthorizationCode').consume(id),
            b.store.oidcAdapter('AuthorizationCode').consume(id),
          ]);
          assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
          const lost = results.find((r) => r.status === 'rejected');
          assert.ok(lost?.status === 'rejected' && lost.reason instanceof AlreadyConsumed);
        }
      });

      it('destroys a record', async () => {
        const id = unique('id');
        await a.store.oidcAdapter('AccessToken').upsert(id, { grantId: 'g' }, 60);
        await b.store.oidcAdapter('AccessToken').destroy(id);
        assert.equal(await a.store.oidcAdapter('AccessToken').find(id), undefined);
      });

      it('revokes everything issued under a grant, and only that', async () => {
        const grantId = unique('grant');
        const other = unique('grant');
        const [code, access, refresh, keep] = [1, 2, 3, 4].map(() => unique('id'));
        await a.store.oidcAdapter('AuthorizationCode').upsert(code!, { grantId }, 60);
        await a.store.oidcAdapter('AccessToken').upsert(access!, { grantId }, 60);
        await b.store.oidcAdapter('RefreshToken').upsert(refresh!, { grantId }, 600);
        await b.store.oidcAdapter('AccessToken').upsert(keep!, { grantId: other }, 60);

        await b.store.oidcAdapter('RefreshToken').revokeByGrantId(grantId);
        assert.equal(await a.store.oidcAdapter('AuthorizationCode').find(code!), undefined);
        assert.equal(await a.store.oidcAdapter('AccessToken').find(access!), undefined);
        assert.equal(await a.store.oidcAdapter('RefreshToken').find(refresh!), undefined);
        assert.ok(await a.store.oidcAdapter('AccessToken').find(keep!), 'other grants stay');
      });

      it("indexes an account's grants and sessions, for revoking them all", async () => {
        const accountId = unique('account');
        const [grant, session, token, other] = [1, 2, 3, 4].map(() => unique('id'));
        await a.store.oidcAdapter('Grant').upsert(grant!, { accountId, clientId: 'rp' }, 600);
        await b.store.oidcAdapter('Session').upsert(session!, { accountId, uid: unique('u') }, 60);
        await a.store.oidcAdapter('AccessToken').upsert(token!, { accountId, grantId: grant }, 60);
        await b.store.oidcAdapter('Grant').upsert(other!, { accountId: unique('else') }, 600);

        assert.deepEqual(await b.store.accountRecords(accountId), {
          grantIds: [grant],
          sessionIds: [session],
        });
        await a.store.oidcAdapter('Grant').revokeByGrantId(grant!);
        assert.equal(await b.store.oidcAdapter('AccessToken').find(token!), undefined);

        await b.store.forgetAccountRecords(accountId);
        assert.deepEqual(await a.store.accountRecords(accountId), {
          grantIds: [],
          sessionIds: [],
        });
        assert.deepEqual(await a.store.accountRecords(unique('nobody')), {
          grantIds: [],
          sessionIds: [],
        });
      });

      it('expires records after expiresIn, and a short one never shortens a grant', async () => {
        const grantId = unique('grant');
        const [short, long, forever] = [1, 2, 3].map(() => unique('id'));
        await a.store.oidcAdapter('RefreshToken').upsert(long!, { grantId }, 60);
        await a.store.oidcAdapter('AccessToken').upsert(short!, { grantId }, 1);
        await a.store.oidcAdapter('Client').upsert(forever!, { name: 'kept' }, 0);
        assert.ok(await b.store.oidcAdapter('AccessToken').find(short!));
        await sleep(1200);
        assert.equal(await b.store.oidcAdapter('AccessToken').find(short!), undefined);
        assert.ok(await b.store.oidcAdapter('RefreshToken').find(long!));
        assert.ok(await b.store.oidcAdapter('Client').find(forever!), 'expiresIn 0 keeps');

        await b.store.oidcAdapter('AccessToken').revokeByGrantId(grantId);
        assert.equal(
          await a.store.oidcAdapter('RefreshToken').find(long!),
          undefined,
          'the long-lived token is still revoked with its grant',
        );
      });
    });

    describe('sign-in sessions and consent', () => {
      it('names the user of a social sign-in from its approval, and only then', async () => {
        const now = Date.now();
        const social = pendingLogin({ userId: '', social: 'google', loginUrl: 'https://x.test/' });
        await a.store.createLogin(social, 60_000);
        const nameless = await b.store.settleLogin(social.authId, true, undefined, now);
        assert.deepEqual(nameless, { ok: false, reason: 'user_unknown' });
        assert.equal((await a.store.getLogin(social.authId))?.verdict, 'waiting');
        const approved = await b.store.settleLogin(social.authId, true, undefined, now, 'ada');
        assert.ok(approved.ok);
        assert.equal((await a.store.getLogin(social.authId))?.userId, 'ada');
        assert.equal((await a.store.getLogin(social.authId))?.social, 'google');

        const plain = pendingLogin({ userId: 'alice' });
        await a.store.createLogin(plain, 60_000);
        assert.ok((await b.store.settleLogin(plain.authId, true, undefined, now, 'mallory')).ok);
        assert.equal((await a.store.getLogin(plain.authId))?.userId, 'alice');
      });

      it('collects the authIds of a session and hands each out once', async () => {
        const session = unique('session');
        const [first, second] = [unique('auth'), unique('auth')];
        await a.store.addSessionAuth(session, first, 60_000);
        await b.store.addSessionAuth(session, second, 60_000);
        await a.store.addSessionAuth(session, first, 60_000);
        assert.deepEqual((await b.store.takeSessionAuths(session)).sort(), [first, second].sort());
        assert.deepEqual(await a.store.takeSessionAuths(session), []);
        assert.deepEqual(await a.store.takeSessionAuths(unique('session')), []);
      });

      it('forgets the authIds of a session after their time to live', async () => {
        const session = unique('session');
        await a.store.addSessionAuth(session, unique('auth'), 50);
        await sleep(120);
        assert.deepEqual(await b.store.takeSessionAuths(session), []);
      });

      it('remembers consent per user and client, adding scopes, until forgotten', async () => {
        const user = unique('user');
        assert.deepEqual(await a.store.getConsent(user, 'rp'), []);
        await a.store.addConsent(user, 'rp', ['openid', 'profile'], 60_000);
        await b.store.addConsent(user, 'rp', ['openid', 'email'], 60_000);
        await a.store.addConsent(user, 'other', ['openid'], 60_000);
        assert.deepEqual((await b.store.getConsent(user, 'rp')).sort(), [
          'email',
          'openid',
          'profile',
        ]);
        assert.deepEqual(await b.store.getConsent(user, 'other'), ['openid']);
        assert.deepEqual(await b.store.getConsent(unique('user'), 'rp'), []);

        await b.store.forgetConsents(user);
        assert.deepEqual(await a.store.getConsent(user, 'rp'), []);
        assert.deepEqual(await a.store.getConsent(user, 'other'), []);
      });

      it('lists the consents of a user by client, with when they are forgotten', async () => {
        const user = unique('user');
        assert.deepEqual(await a.store.listConsents(user), []);
        const before = Date.now();
        await a.store.addConsent(user, 'zeta', ['openid'], 60_000);
        await b.store.addConsent(user, 'alpha', ['profile', 'openid'], 60_000);
        await a.store.addConsent(user, 'alpha', ['email'], 60_000);
        await a.store.addConsent(unique('user'), 'other', ['openid'], 60_000);

        const listed = await b.store.listConsents(user);
        assert.deepEqual(
          listed.map(({ clientId, scopes }) => ({ clientId, scopes })),
          [
            { clientId: 'alpha', scopes: ['email', 'openid', 'profile'] },
            { clientId: 'zeta', scopes: ['openid'] },
          ],
        );
        for (const { expiresAt } of listed) {
          assert.ok(expiresAt > before + 30_000, `renewed with the last consent: ${expiresAt}`);
          assert.ok(expiresAt <= Date.now() + 60_000, `within its lifetime: ${expiresAt}`);
        }
      });

      it('withdraws the consent to one client only, once', async () => {
        const user = unique('user');
        const other = unique('user');
        await a.store.addConsent(user, 'rp', ['openid', 'email'], 60_000);
        await a.store.addConsent(user, 'keep', ['openid'], 60_000);
        await b.store.addConsent(other, 'rp', ['openid'], 60_000);

        assert.equal(await b.store.withdrawConsent(user, 'rp'), true);
        assert.deepEqual(await a.store.getConsent(user, 'rp'), []);
        assert.deepEqual(await a.store.getConsent(user, 'keep'), ['openid']);
        assert.deepEqual(await a.store.getConsent(other, 'rp'), ['openid'], 'others keep theirs');
        assert.deepEqual(
          (await a.store.listConsents(user)).map(({ clientId }) => clientId),
          ['keep'],
        );

        assert.equal(await a.store.withdrawConsent(user, 'rp'), false, 'nothing left to withdraw');
        assert.equal(await a.store.withdrawConsent(user, 'never-allowed'), false);
        assert.equal(await a.store.withdrawConsent(unique('user'), 'rp'), false);

        // A consent given again after a withdrawal holds only what was given again.
        await b.store.addConsent(user, 'rp', ['openid'], 60_000);
        assert.deepEqual(await a.store.getConsent(user, 'rp'), ['openid']);

        assert.equal(await a.store.withdrawConsent(user, 'rp'), true);
        assert.equal(await b.store.withdrawConsent(user, 'keep'), true);
        assert.deepEqual(await a.store.listConsents(user), [], 'the last one gone, none listed');
      });

      it('lets exactly one of two racing withdrawals win', async () => {
        const user = unique('user');
        await a.store.addConsent(user, 'rp', ['openid'], 60_000);
        const results = await Promise.all([
          a.store.withdrawConsent(user, 'rp'),
          b.store.withdrawConsent(user, 'rp'),
        ]);
        assert.deepEqual(results.sort(), [false, true]);
        assert.deepEqual(await b.store.listConsents(user), []);
      });

      it('keeps every scope of two consents to one client given at once', async () => {
        const user = unique('user');
        await Promise.all([
          a.store.addConsent(user, 'rp', ['openid', 'email'], 60_000),
          b.store.addConsent(user, 'rp', ['openid', 'phone'], 60_000),
        ]);
        assert.deepEqual(await a.store.getConsent(user, 'rp'), ['email', 'openid', 'phone']);
      });

      it('forgets consent after its time to live', async () => {
        const user = unique('user');
        await a.store.addConsent(user, 'rp', ['openid'], 50);
        await sleep(120);
        assert.deepEqual(await b.store.getConsent(user, 'rp'), []);
        assert.deepEqual(await b.store.listConsents(user), []);
      });
    });

    describe('health', () => {
      it('answers ping', async () => {
        assert.equal(await a.store.ping(), true);
      });
    });

    describe('bus', () => {
      it('delivers an event to every listener of that authId, on any handle', async () => {
        const authId = unique('auth');
        const seenA: LoginEvent[] = [];
        const seenB: LoginEvent[] = [];
        const other: LoginEvent[] = [];
        const offA = a.bus.subscribe(authId, (event) => seenA.push(event));
        const offB = b.bus.subscribe(authId, (event) => seenB.push(event));
        const offOther = b.bus.subscribe(unique('auth'), (event) => other.push(event));

        await b.bus.publish({ authId, kind: 'picture' });
        await a.bus.publish({ authId, kind: 'verdict' });
        const expected = [
          { authId, kind: 'picture' },
          { authId, kind: 'verdict' },
        ];
        await eventually(() => {
          assert.deepEqual(seenA, expected);
          assert.deepEqual(seenB, expected);
        });
        assert.deepEqual(other, [], 'listeners of other sign-ins hear nothing');
        offA();
        offB();
        offOther();
      });

      it('never runs a listener inside publish', async () => {
        const authId = unique('auth');
        let heard = 0;
        const off = a.bus.subscribe(authId, () => {
          heard += 1;
        });
        const publishing = a.bus.publish({ authId, kind: 'picture' });
        assert.equal(heard, 0);
        await publishing;
        await eventually(() => assert.equal(heard, 1));
        off();
      });

      it('stops delivering after unsubscribe', async () => {
        const authId = unique('auth');
        const seen: LoginEvent[] = [];
        const off = b.bus.subscribe(authId, (event) => seen.push(event));
        await a.bus.publish({ authId, kind: 'picture' });
        await eventually(() => assert.equal(seen.length, 1));
        off();
        await a.bus.publish({ authId, kind: 'verdict' });
        // A marker on another authId proves the second event has been delivered by now.
        const marker = unique('auth');
        let markerSeen = false;
        const offMarker = b.bus.subscribe(marker, () => {
          markerSeen = true;
        });
        await a.bus.publish({ authId: marker, kind: 'picture' });
        await eventually(() => assert.ok(markerSeen));
        offMarker();
        assert.equal(seen.length, 1);
      });
    });
  });
}
