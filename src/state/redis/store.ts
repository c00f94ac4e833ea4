/**
 * The Redis store: the same semantics as the memory store, shared by every instance that points
 * at the same Redis and key prefix. Lifetimes are Redis TTLs; every change that depends on the
 * current value (a picture, a verdict, the use of an approval, a user's last sign-in, a
 * registration's progress) is a compare-and-set retried on conflict, so the first of two racing
 * instances wins and the other sees the result; one-time writes (the portal registration,
 * generated secrets) are SET NX. Any Redis failure surfaces as `StoreUnavailable` (503).
 *
 * Confirming a registration writes two records, the user and the registration, which may live
 * in different Cluster slots: the user is created first (compare-and-set on its absence, marked
 * with the registration's id) and the registration marked confirmed second, so a confirmation
 * interrupted in between is completed by the next attempt, which finds its own user in place.
 * The `users` set that lists users is an index only: an id in it without a record is skipped
 * and removed.
 */
import { StoreUnavailable } from '../../http/errors.ts';
import { consumed, withPicture, withVerdict } from '../login-transitions.ts';
import type {
  AccountRecords,
  ConsentRecord,
  LoginUpdate,
  OidcAdapter,
  PendingLogin,
  PendingRegistration,
  PortalRegistration,
  RegistrationUpdate,
  RegistrationVerdict,
  Store,
  UserRecord,
} from '../types.ts';
import {
  confirmationBlocked,
  confirmedRegistration,
  registeredUser,
  signedIn,
  withReturn,
  withVerdict as withRegistrationVerdict,
} from '../user-transitions.ts';
import { disconnect, guarded, type RedisClient } from './connection.ts';
import type { RedisKeys } from './keys.ts';
import { RedisOidcAdapter } from './oidc-adapter.ts';
import { compareAndSet } from './scripts.ts';
import { RedisSessionRecords } from './session-records.ts';

/**
 * Attempts at one compare-and-set before giving up. A conflict means another instance changed
 * the same record in between, which after a verdict settles the question; so more than a
 * couple of attempts only happen under pathological load.
 */
const MAX_ATTEMPTS = 16;

/** Users read at once when listing. */
const LIST_BATCH = 100;

/** What a Redis store works with. */
export interface RedisStoreOptions {
  /** The command connection (see connection.ts); closed by `close()`. */
  client: RedisClient;
  keys: RedisKeys;
}

/** The store on Redis; see the module comment for how each operation stays atomic. */
export class RedisStore implements Store {
  readonly #client: RedisClient;
  readonly #keys: RedisKeys;
  readonly #sessionRecords: RedisSessionRecords;

  constructor(options: RedisStoreOptions) {
    this.#client = options.client;
    this.#keys = options.keys;
    this.#sessionRecords = new RedisSessionRecords(options.client, options.keys);
  }

  createLogin(login: PendingLogin, ttlMs: number): Promise<void> {
    return guarded('createLogin', async () => {
      const ttl = Math.max(1, Math.round(ttlMs));
      // Record first, then the index: whoever finds the index also finds the record.
      await this.#client.set(this.#keys.login(login.authId), JSON.stringify(login), 'PX', ttl);
      await this.#client.set(
        this.#keys.loginByInteraction(login.interactionUid),
        login.authId,
        'PX',
        ttl,
      );
    });
  }

  getLogin(authId: string): Promise<PendingLogin | undefined> {
    return guarded('getLogin', async () => {
      const text = await this.#client.get(this.#keys.login(authId));
      return text === null ? undefined : (JSON.parse(text) as PendingLogin);
    });
  }

  getLoginByInteraction(interactionUid: string): Promise<PendingLogin | undefined> {
    return guarded('getLoginByInteraction', async () => {
      const authId = await this.#client.get(this.#keys.loginByInteraction(interactionUid));
      return authId === null ? undefined : this.getLogin(authId);
    });
  }

  updatePicture(
    authId: string,
    picture: { image: string; nextChange: number; deadline: number },
    now: number,
  ): Promise<LoginUpdate> {
    return this.#change('updatePicture', authId, (login) => withPicture(login, picture, now));
  }

  settleLogin(
    authId: string,
    approved: boolean,
    reason: string | undefined,
    now: number,
    approvedUserId?: string,
  ): Promise<LoginUpdate> {
    return this.#change('settleLogin', authId, (login) =>
      withVerdict(login, approved, reason, now, approvedUserId),
    );
  }

  consumeLogin(authId: string): Promise<LoginUpdate> {
    return this.#change('consumeLogin', authId, consumed);
  }

  getPortal(): Promise<PortalRegistration | undefined> {
    return guarded('getPortal', async () => {
      const text = await this.#client.get(this.#keys.portal);
      return text === null ? undefined : (JSON.parse(text) as PortalRegistration);
    });
  }

  setPortalIfAbsent(portal: PortalRegistration): Promise<boolean> {
    return guarded('setPortalIfAbsent', async () => {
      const set = await this.#client.set(this.#keys.portal, JSON.stringify(portal), 'NX');
      return set === 'OK';
    });
  }

  openPortalWindow(until: number): Promise<void> {
    return guarded('openPortalWindow', async () => {
      const ttl = Math.max(1, Math.round(until - Date.now()));
      await this.#client.set(this.#keys.portalWindow, String(until), 'PX', ttl);
    });
  }

  getPortalWindow(now: number): Promise<number | undefined> {
    return guarded('getPortalWindow', async () => {
      const until = Number(await this.#client.get(this.#keys.portalWindow));
      return until > now ? until : undefined;
    });
  }

  claimPortalWindow(now: number): Promise<boolean> {
    return guarded('claimPortalWindow', async () => {
      // GETDEL: of two instances claiming together, only one reads the value.
      const until = Number(await this.#client.getdel(this.#keys.portalWindow));
      return until > now;
    });
  }

  replacePortal(portal: PortalRegistration): Promise<void> {
    return guarded('replacePortal', async () => {
      await this.#client.set(this.#keys.portal, JSON.stringify(portal));
    });
  }

  recordSignIn(userId: string, now: number): Promise<UserRecord> {
    return guarded('recordSignIn', async () => {
      const key = this.#keys.user(userId);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const text = (await this.#client.get(key)) ?? undefined;
        const user = signedIn(text ? (JSON.parse(text) as UserRecord) : undefined, userId, now);
        if (await compareAndSet(this.#client, key, text, JSON.stringify(user))) {
          if (!text) await this.#client.sadd(this.#keys.users, userId);
          return user;
        }
      }
      throw contended('recordSignIn');
    });
  }

  getUser(userId: string): Promise<UserRecord | undefined> {
    return guarded('getUser', () => this.#user(userId));
  }

  createUser(user: UserRecord): Promise<boolean> {
    return guarded('createUser', async () => {
      const key = this.#keys.user(user.userId);
      const created = (await this.#client.set(key, JSON.stringify(user), 'NX')) === 'OK';
      if (created) await this.#client.sadd(this.#keys.users, user.userId);
      return created;
    });
  }

  putUser(user: UserRecord): Promise<void> {
    return guarded('putUser', async () => {
      await this.#client.set(this.#keys.user(user.userId), JSON.stringify(user));
      await this.#client.sadd(this.#keys.users, user.userId);
    });
  }

  changeUser(
    userId: string,
    apply: (user: UserRecord) => UserRecord,
  ): Promise<UserRecord | undefined> {
    return guarded('changeUser', async () => {
      const key = this.#keys.user(userId);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const text = await this.#client.get(key);
        if (text === null) return undefined;
        const user = apply(JSON.parse(text) as UserRecord);
        if (await compareAndSet(this.#client, key, text, JSON.stringify(user))) return user;
      }
      throw contended('changeUser');
    });
  }

  deleteUser(userId: string): Promise<boolean> {
    return guarded('deleteUser', async () => {
      const deleted = await this.#client.del(this.#keys.user(userId));
      await this.#client.srem(this.#keys.users, userId);
      return deleted > 0;
    });
  }

  listUsers(): Promise<UserRecord[]> {
    return guarded('listUsers', async () => {
      const ids = (await this.#client.smembers(this.#keys.users)).sort();
      const users: UserRecord[] = [];
      // One GET per user, a batch at a time: on a Cluster the records live in different slots.
      for (let start = 0; start < ids.length; start += LIST_BATCH) {
        const batch = ids.slice(start, start + LIST_BATCH);
        const texts = await Promise.all(batch.map((id) => this.#client.get(this.#keys.user(id))));
        const stale: string[] = [];
        texts.forEach((text, index) => {
          if (text !== null) users.push(JSON.parse(text) as UserRecord);
          else stale.push(batch[index]!);
        });
        if (stale.length > 0) await this.#client.srem(this.#keys.users, ...stale);
      }
      return users;
    });
  }

  createRegistration(registration: PendingRegistration, ttlMs: number): Promise<void> {
    return guarded('createRegistration', async () => {
      const ttl = Math.max(1, Math.round(ttlMs));
      // Record first, then the index: whoever finds the index also finds the record.
      await this.#client.set(
        this.#keys.registration(registration.otp),
        JSON.stringify(registration),
        'PX',
        ttl,
      );
      await this.#client.set(
        this.#keys.registrationById(registration.id),
        registration.otp,
        'PX',
        ttl,
      );
    });
  }

  getRegistration(otp: string): Promise<PendingRegistration | undefined> {
    return guarded('getRegistration', () => this.#registration(otp));
  }

  getRegistrationById(id: string): Promise<PendingRegistration | undefined> {
    return guarded('getRegistrationById', async () => {
      const otp = await this.#client.get(this.#keys.registrationById(id));
      return otp === null ? undefined : this.#registration(otp);
    });
  }

  settleRegistration(otp: string, verdict: RegistrationVerdict): Promise<RegistrationUpdate> {
    return this.#changeRegistration('settleRegistration', otp, (registration) =>
      withRegistrationVerdict(registration, verdict),
    );
  }

  confirmRegistration(otp: string, now: number, keepMs: number): Promise<RegistrationUpdate> {
    return guarded('confirmRegistration', async () => {
      const key = this.#keys.registration(otp);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const text = await this.#client.get(key);
        if (text === null) return { ok: false, reason: 'not_found' };
        const registration = JSON.parse(text) as PendingRegistration;
        const userKey = this.#keys.user(registration.userId);
        const userText = (await this.#client.get(userKey)) ?? undefined;
        const existing = userText ? (JSON.parse(userText) as UserRecord) : undefined;
        const blocked = confirmationBlocked(registration, existing);
        if (blocked === 'again') return { ok: true, registration, user: existing };
        if (blocked) return blocked;

        let user = existing;
        if (!user) {
          const created = registeredUser(registration, now);
          // Someone created the user meanwhile: decide again with what is there now.
          if (!(await compareAndSet(this.#client, userKey, undefined, JSON.stringify(created)))) {
            continue;
          }
          await this.#client.sadd(this.#keys.users, created.userId);
          user = created;
        }
        const next = confirmedRegistration(registration, now);
        if (await compareAndSet(this.#client, key, text, JSON.stringify(next), keepMs)) {
          const byId = this.#keys.registrationById(registration.id);
          await this.#client.set(byId, otp, 'PX', Math.max(1, Math.round(keepMs)));
          return { ok: true, registration: next, user };
        }
      }
      throw contended('confirmRegistration');
    });
  }

  finishRegistration(otp: string, now: number): Promise<RegistrationUpdate> {
    return this.#changeRegistration('finishRegistration', otp, (registration) =>
      withReturn(registration, now),
    );
  }

  accountRecords(accountId: string): Promise<AccountRecords> {
    return guarded('accountRecords', async () => {
      const records: AccountRecords = { grantIds: [], sessionIds: [] };
      for (const member of await this.#client.smembers(this.#keys.account(accountId))) {
        const colon = member.indexOf(':');
        const [model, id] = [member.slice(0, colon), member.slice(colon + 1)];
        if (model === 'Grant') records.grantIds.push(id);
        if (model === 'Session') records.sessionIds.push(id);
      }
      return records;
    });
  }

  forgetAccountRecords(accountId: string): Promise<void> {
    return guarded('forgetAccountRecords', async () => {
      await this.#client.del(this.#keys.account(accountId));
    });
  }

  async getOrCreateSecret(name: string, create: () => Promise<string>): Promise<string> {
    const key = this.#keys.secret(name);
    const stored = await guarded('getOrCreateSecret', () => this.#client.get(key));
    if (stored !== null) return stored;

    // Instances starting together may each create one; SET NX keeps the first, and everyone
    // returns what was kept.
    const created = await create();
    return guarded('getOrCreateSecret', async () => {
      if ((await this.#client.set(key, created, 'NX')) === 'OK') return created;
      const kept = await this.#client.get(key);
      if (kept === null) throw contended('getOrCreateSecret');
      return kept;
    });
  }

  oidcAdapter(model: string): OidcAdapter {
    return new RedisOidcAdapter(this.#client, this.#keys, model);
  }

  addSessionAuth(sessionUid: string, authId: string, ttlMs: number): Promise<void> {
    return this.#sessionRecords.addSessionAuth(sessionUid, authId, ttlMs);
  }

  takeSessionAuths(sessionUid: string): Promise<string[]> {
    return this.#sessionRecords.takeSessionAuths(sessionUid);
  }

  getConsent(userId: string, clientId: string): Promise<string[]> {
    return this.#sessionRecords.getConsent(userId, clientId);
  }

  addConsent(userId: string, clientId: string, scopes: string[], ttlMs: number): Promise<void> {
    return this.#sessionRecords.addConsent(userId, clientId, scopes, ttlMs);
  }

  listConsents(userId: string): Promise<ConsentRecord[]> {
    return this.#sessionRecords.listConsents(userId);
  }

  withdrawConsent(userId: string, clientId: string): Promise<boolean> {
    return this.#sessionRecords.withdrawConsent(userId, clientId);
  }

  forgetConsents(userId: string): Promise<void> {
    return this.#sessionRecords.forgetConsents(userId);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.#client.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return disconnect(this.#client);
  }

  async #user(userId: string): Promise<UserRecord | undefined> {
    const text = await this.#client.get(this.#keys.user(userId));
    return text === null ? undefined : (JSON.parse(text) as UserRecord);
  }

  async #registration(otp: string): Promise<PendingRegistration | undefined> {
    const text = await this.#client.get(this.#keys.registration(otp));
    return text === null ? undefined : (JSON.parse(text) as PendingRegistration);
  }

  #changeRegistration(
    operation: string,
    otp: string,
    apply: (registration: PendingRegistration) => RegistrationUpdate,
  ): Promise<RegistrationUpdate> {
    return guarded(operation, async () => {
      const key = this.#keys.registration(otp);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const text = await this.#client.get(key);
        if (text === null) return { ok: false, reason: 'not_found' };
        const result = apply(JSON.parse(text) as PendingRegistration);
        if (!result.ok) return result;
        if (await compareAndSet(this.#client, key, text, JSON.stringify(result.registration))) {
          return result;
        }
      }
      throw contended(operation);
    });
  }

  /** Read, decide with the shared rules, write if unchanged; again on conflict. */
  #change(
    operation: string,
    authId: string,
    apply: (login: PendingLogin) => LoginUpdate,
  ): Promise<LoginUpdate> {
    return guarded(operation, async () => {
      const key = this.#keys.login(authId);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const text = await this.#client.get(key);
        if (text === null) return { ok: false, reason: 'not_found' };
        const result = apply(JSON.parse(text) as PendingLogin);
        if (!result.ok) return result;
        if (await compareAndSet(this.#client, key, text, JSON.stringify(result.login))) {
          return result;
        }
      }
      throw contended(operation);
    });
  }
}

function contended(operation: string): StoreUnavailable {
  return new StoreUnavailable({
    detail: `redis ${operation}: gave up after ${MAX_ATTEMPTS} conflicts`,
  });
}
