/**
 * The Redis store: the same semantics as the memory store, shared by every instance that points
 * at the same Redis and key prefix. Lifetimes are Redis TTLs; every change that depends on the
 * current value (a picture, a verdict, the use of an approval, a user's last sign-in) is a
 * compare-and-set retried on conflict, so the first of two racing instances wins and the other
 * sees the result; one-time writes (the portal registration, generated secrets) are SET NX.
 * Any Redis failure surfaces as `StoreUnavailable` (503).
 */
import { StoreUnavailable } from '../../http/errors.ts';
import { consumed, withPicture, withVerdict } from '../login-transitions.ts';
import type {
  LoginUpdate,
  OidcAdapter,
  PendingLogin,
  PortalRegistration,
  Store,
  UserRecord,
} from '../types.ts';
import { disconnect, guarded, type RedisClient } from './connection.ts';
import type { RedisKeys } from './keys.ts';
import { RedisOidcAdapter } from './oidc-adapter.ts';
import { compareAndSet } from './scripts.ts';

/**
 * Attempts at one compare-and-set before giving up. A conflict means another instance changed
 * the same record in between, which after a verdict settles the question; so more than a
 * couple of attempts only happen under pathological load.
 */
const MAX_ATTEMPTS = 16;

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

  constructor(options: RedisStoreOptions) {
    this.#client = options.client;
    this.#keys = options.keys;
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
  ): Promise<LoginUpdate> {
    return this.#change('settleLogin', authId, (login) =>
      withVerdict(login, approved, reason, now),
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

  recordSignIn(userId: string, now: number): Promise<UserRecord> {
    return guarded('recordSignIn', async () => {
      const key = this.#keys.user(userId);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const text = (await this.#client.get(key)) ?? undefined;
        const user: UserRecord = text
          ? { ...(JSON.parse(text) as UserRecord), lastSignInAt: now }
          : { userId, firstSignInAt: now, lastSignInAt: now };
        if (await compareAndSet(this.#client, key, text, JSON.stringify(user))) return user;
      }
      throw contended('recordSignIn');
    });
  }

  getUser(userId: string): Promise<UserRecord | undefined> {
    return guarded('getUser', async () => {
      const text = await this.#client.get(this.#keys.user(userId));
      return text === null ? undefined : (JSON.parse(text) as UserRecord);
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
