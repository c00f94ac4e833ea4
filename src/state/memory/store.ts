/**
 * The in-process store: the quickstart's default and the single-instance deployment. Every
 * operation is synchronous underneath, so each read-check-write below is atomic in one process.
 */
import { consumed, withPicture, withVerdict } from '../login-transitions.ts';
import type {
  LoginUpdate,
  OidcAdapter,
  PendingLogin,
  PortalRegistration,
  Store,
  UserRecord,
} from '../types.ts';
import { MemoryOidcStorage } from './oidc-adapter.ts';
import { TtlMap } from './ttl-map.ts';

export class MemoryStore implements Store {
  readonly #logins: TtlMap<PendingLogin>;
  readonly #loginByInteraction: TtlMap<string>;
  readonly #users = new Map<string, UserRecord>();
  readonly #secrets = new Map<string, Promise<string>>();
  readonly #oidc: MemoryOidcStorage;
  #portal: PortalRegistration | undefined;

  constructor(now: () => number = Date.now) {
    this.#logins = new TtlMap(now);
    this.#loginByInteraction = new TtlMap(now);
    this.#oidc = new MemoryOidcStorage(now);
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
  ): Promise<LoginUpdate> {
    return this.#change(authId, (login) => withVerdict(login, approved, reason, now));
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

  recordSignIn(userId: string, now: number): Promise<UserRecord> {
    const existing = this.#users.get(userId);
    const user = existing
      ? { ...existing, lastSignInAt: now }
      : { userId, firstSignInAt: now, lastSignInAt: now };
    this.#users.set(userId, user);
    return Promise.resolve({ ...user });
  }

  getUser(userId: string): Promise<UserRecord | undefined> {
    const user = this.#users.get(userId);
    return Promise.resolve(user && { ...user });
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

  ping(): Promise<boolean> {
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #change(authId: string, apply: (login: PendingLogin) => LoginUpdate): Promise<LoginUpdate> {
    const login = this.#logins.get(authId);
    if (!login) return Promise.resolve({ ok: false, reason: 'not_found' });
    const result = apply(login);
    if (result.ok) this.#logins.replace(authId, result.login);
    return Promise.resolve(result.ok ? { ok: true, login: { ...result.login } } : result);
  }
}
