/**
 * The in-process store: the quickstart's default and the single-instance deployment. Every
 * operation is synchronous underneath, so each read-check-write below is atomic in one process.
 * Users and registrations are kept as JSON text, so what comes back is always a fresh copy and
 * reads exactly as it would after a trip through Redis.
 */
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
import { MemoryOidcStorage } from './oidc-adapter.ts';
import { MemorySessionRecords } from './session-records.ts';
import { TtlMap } from './ttl-map.ts';

export class MemoryStore implements Store {
  readonly #logins: TtlMap<PendingLogin>;
  readonly #loginByInteraction: TtlMap<string>;
  readonly #users = new Map<string, string>();
  readonly #registrations: TtlMap<string>;
  readonly #registrationById: TtlMap<string>;
  readonly #secrets = new Map<string, Promise<string>>();
  readonly #oidc: MemoryOidcStorage;
  readonly #sessionRecords: MemorySessionRecords;
  #portal: PortalRegistration | undefined;
  #portalWindowUntil: number | undefined;

  constructor(now: () => number = Date.now) {
    this.#registrations = new TtlMap(now);
    this.#registrationById = new TtlMap(now);
    this.#logins = new TtlMap(now);
    this.#loginByInteraction = new TtlMap(now);
    this.#oidc = new MemoryOidcStorage(now);
    this.#sessionRecords = new MemorySessionRecords(now);
  }

  createLogin(login: PendingLogin, ttlMs: number): Promise<void> {
    this.#logins.set(login.authId, { ...login }, ttlMs);
    this.#loginByInteraction.set(login.interactionUid, login.authId, ttlMs);
    return Promise.resolve();
  }

  getLogin(authId: string): Promise<PendingLogin | undefined> {
    const login = this.#logins.get(authId);
    return Promise.resolve(login && { ...login });
  }

  getLoginByInteraction(interactionUid: string): Promise<PendingLogin | undefined> {
    const authId = this.#loginByInteraction.get(interactionUid);
    return authId === undefined ? Promise.resolve(undefined) : this.getLogin(authId);
  }

  updatePicture(
    authId: string,
    picture: { image: string; nextChange: number; deadline: number },
    now: number,
  ): Promise<LoginUpdate> {
    return this.#change(authId, (login) => withPicture(login, picture, now));
  }

  settleLogin(
    authId: string,
    approved: boolean,
    reason: string | undefined,
    now: number,
    approvedUserId?: string,
  ): Promise<LoginUpdate> {
    return this.#change(authId, (login) =>
      withVerdict(login, approved, reason, now, approvedUserId),
    );
  }

  consumeLogin(authId: string): Promise<LoginUpdate> {
    return this.#change(authId, consumed);
  }

  getPortal(): Promise<PortalRegistration | undefined> {
    return Promise.resolve(this.#portal && { ...this.#portal });
  }

  setPortalIfAbsent(portal: PortalRegistration): Promise<boolean> {
    if (this.#portal) return Promise.resolve(false);
    this.#portal = { ...portal };
    return Promise.resolve(true);
  }

  openPortalWindow(until: number): Promise<void> {
    this.#portalWindowUntil = until;
    return Promise.resolve();
  }

  getPortalWindow(now: number): Promise<number | undefined> {
    const until = this.#portalWindowUntil;
    return Promise.resolve(until !== undefined && until > now ? until : undefined);
  }

  claimPortalWindow(now: number): Promise<boolean> {
    const open = this.#portalWindowUntil !== undefined && this.#portalWindowUntil > now;
    this.#portalWindowUntil = undefined;
    return Promise.resolve(open);
  }

  replacePortal(portal: PortalRegistration): Promise<void> {
    this.#portal = { ...portal };
    return Promise.resolve();
  }

  recordSignIn(userId: string, now: number): Promise<UserRecord> {
    const user = signedIn(this.#user(userId), userId, now);
    this.#users.set(userId, JSON.stringify(user));
    return Promise.resolve(user);
  }

  getUser(userId: string): Promise<UserRecord | undefined> {
    return Promise.resolve(this.#user(userId));
  }

  createUser(user: UserRecord): Promise<boolean> {
    if (this.#users.has(user.userId)) return Promise.resolve(false);
    this.#users.set(user.userId, JSON.stringify(user));
    return Promise.resolve(true);
  }

  putUser(user: UserRecord): Promise<void> {
    this.#users.set(user.userId, JSON.stringify(user));
    return Promise.resolve();
  }

  changeUser(
    userId: string,
    apply: (user: UserRecord) => UserRecord,
  ): Promise<UserRecord | undefined> {
    const user = this.#user(userId);
    if (!user) return Promise.resolve(undefined);
    const text = JSON.stringify(apply(user));
    this.#users.set(userId, text);
    return Promise.resolve(JSON.parse(text) as UserRecord);
  }

  deleteUser(userId: string): Promise<boolean> {
    return Promise.resolve(this.#users.delete(userId));
  }

  listUsers(): Promise<UserRecord[]> {
    const ids = [...this.#users.keys()].sort();
    return Promise.resolve(ids.map((id) => JSON.parse(this.#users.get(id)!) as UserRecord));
  }

  createRegistration(registration: PendingRegistration, ttlMs: number): Promise<void> {
    this.#registrations.set(registration.otp, JSON.stringify(registration), ttlMs);
    this.#registrationById.set(registration.id, registration.otp, ttlMs);
    return Promise.resolve();
  }

  getRegistration(otp: string): Promise<PendingRegistration | undefined> {
    return Promise.resolve(this.#registration(otp));
  }

  getRegistrationById(id: string): Promise<PendingRegistration | undefined> {
    const otp = this.#registrationById.get(id);
    return Promise.resolve(otp === undefined ? undefined : this.#registration(otp));
  }

  settleRegistration(otp: string, verdict: RegistrationVerdict): Promise<RegistrationUpdate> {
    return this.#changeRegistration(otp, (registration) =>
      withRegistrationVerdict(registration, verdict),
    );
  }

  confirmRegistration(otp: string, now: number, keepMs: number): Promise<RegistrationUpdate> {
    const registration = this.#registration(otp);
    if (!registration) return Promise.resolve({ ok: false, reason: 'not_found' });
    const existing = this.#user(registration.userId);
    const blocked = confirmationBlocked(registration, existing);
    if (blocked === 'again') return Promise.resolve({ ok: true, registration, user: existing });
    if (blocked) return Promise.resolve(blocked);

    const user = existing ?? registeredUser(registration, now);
    this.#users.set(user.userId, JSON.stringify(user));
    const confirmed = confirmedRegistration(registration, now);
    this.#registrations.set(otp, JSON.stringify(confirmed), keepMs);
    this.#registrationById.set(confirmed.id, otp, keepMs);
    return Promise.resolve({ ok: true, registration: confirmed, user });
  }

  finishRegistration(otp: string, now: number): Promise<RegistrationUpdate> {
    return this.#changeRegistration(otp, (registration) => withReturn(registration, now));
  }

  accountRecords(accountId: string): Promise<AccountRecords> {
    return Promise.resolve(this.#oidc.recordsOf(accountId));
  }

  forgetAccountRecords(accountId: string): Promise<void> {
    this.#oidc.forgetRecordsOf(accountId);
    return Promise.resolve();
  }

  getOrCreateSecret(name: string, create: () => Promise<string>): Promise<string> {
    // Keeping the promise, not the value, makes concurrent first calls share one creation.
    let secret = this.#secrets.get(name);
    if (!secret) {
      secret = create();
      this.#secrets.set(name, secret);
      secret.catch(() => this.#secrets.delete(name));
    }
    return secret;
  }

  oidcAdapter(model: string): OidcAdapter {
    return this.#oidc.adapter(model);
  }

  addSessionAuth(sessionUid: string, authId: string, ttlMs: number): Promise<void> {
    this.#sessionRecords.addSessionAuth(sessionUid, authId, ttlMs);
    return Promise.resolve();
  }

  takeSessionAuths(sessionUid: string): Promise<string[]> {
    return Promise.resolve(this.#sessionRecords.takeSessionAuths(sessionUid));
  }

  getConsent(userId: string, clientId: string): Promise<string[]> {
    return Promise.resolve(this.#sessionRecords.getConsent(userId, clientId));
  }

  addConsent(userId: string, clientId: string, scopes: string[], ttlMs: number): Promise<void> {
    this.#sessionRecords.addConsent(userId, clientId, scopes, ttlMs);
    return Promise.resolve();
  }

  listConsents(userId: string): Promise<ConsentRecord[]> {
    return Promise.resolve(this.#sessionRecords.listConsents(userId));
  }

  withdrawConsent(userId: string, clientId: string): Promise<boolean> {
    return Promise.resolve(this.#sessionRecords.withdrawConsent(userId, clientId));
  }

  forgetConsents(userId: string): Promise<void> {
    this.#sessionRecords.forgetConsents(userId);
    return Promise.resolve();
  }

  ping(): Promise<boolean> {
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #user(userId: string): UserRecord | undefined {
    const text = this.#users.get(userId);
    return text === undefined ? undefined : (JSON.parse(text) as UserRecord);
  }

  #registration(otp: string): PendingRegistration | undefined {
    const text = this.#registrations.get(otp);
    return text === undefined ? undefined : (JSON.parse(text) as PendingRegistration);
  }

  #changeRegistration(
    otp: string,
    apply: (registration: PendingRegistration) => RegistrationUpdate,
  ): Promise<RegistrationUpdate> {
    const registration = this.#registration(otp);
    if (!registration) return Promise.resolve({ ok: false, reason: 'not_found' });
    const result = apply(registration);
    if (result.ok) this.#registrations.replace(otp, JSON.stringify(result.registration));
    return Promise.resolve(result);
  }

  #change(authId: string, apply: (login: PendingLogin) => LoginUpdate): Promise<LoginUpdate> {
    const login = this.#logins.get(authId);
    if (!login) return Promise.resolve({ ok: false, reason: 'not_found' });
    const result = apply(login);
    if (result.ok) this.#logins.replace(authId, result.login);
    return Promise.resolve(result.ok ? { ok: true, login: { ...result.login } } : result);
  }
}
