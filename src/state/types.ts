/**
 * Store and bus: everything the bridge remembers between requests, and the "something happened
 * to authId X" signal that reaches the browser waiting on that sign-in.
 *
 * Two implementations sit behind these interfaces: memory/ (one process, the default) and
 * redis/ (any number of instances). The interaction flow and the callback handlers only ever
 * see these types, so where state lives is decided once, in the composition root.
 */

/** Where a pending sign-in stands. `expired` is derived from the clock, never stored. */
export type LoginStatus = 'waiting' | 'approved' | 'refused' | 'expired';

/** One sign-in between RequestAuthorization and the end of the OIDC interaction. */
export interface PendingLogin {
  /** NoPass's id for this authentication session. */
  authId: string;
  /** The oidc-provider interaction this sign-in belongs to (the browser holds its cookie). */
  interactionUid: string;
  /** The user id NoPass was asked to authenticate: the only source of the ID token's `sub`. */
  userId: string;
  clientId: string;
  /** Base64 of the current PNG picture. */
  image: string;
  /** Milliseconds the current picture is valid for, as NoPass said. */
  nextChange: number;
  /** Epoch ms at which the current picture arrived. */
  pictureAt: number;
  /** Increments with every new picture, so a page can tell pictures apart. */
  pictureSeq: number;
  /**
   * Epoch ms after which a login still waiting for a verdict counts as expired: the picture's
   * lifetime plus a grace period for a late UpdatePicture or verdict.
   */
  deadline: number;
  /** Stored verdict; `waiting` until AuthorizedUser arrives. */
  verdict: 'waiting' | 'approved' | 'refused';
  /** NoPass's reason for a refusal: plain text, never markup. */
  reason?: string;
  /** Epoch ms of the verdict. */
  verdictAt?: number;
  /** Set once the approval has finished the interaction: an approval is used once. */
  consumed: boolean;
  createdAt: number;
}

/** The portal registration NoPass handed out in ConfirmRegistration. */
export interface PortalRegistration {
  portalId: string;
  authToken: string;
  registeredAt: number;
}

/** A user the bridge has seen. Claims beyond the user id arrive with registration. */
export interface UserRecord {
  userId: string;
  firstSignInAt: number;
  lastSignInAt: number;
}

/**
 * What a callback changed; the bus carries only this, the state itself stays in the store.
 * `resync` is never published: a bus delivers it to its own listeners after it may have missed
 * events (its connection to Redis was interrupted), so they read the current state again.
 */
export interface LoginEvent {
  authId: string;
  kind: 'picture' | 'verdict' | 'resync';
}

/** Outcome of an attempt to change a pending login. */
export type LoginUpdate =
  | { ok: true; login: PendingLogin }
  | { ok: false; reason: 'not_found' | 'settled' | 'expired' | 'consumed' | 'not_approved' };

/**
 * oidc-provider's adapter contract (see its docs, "Adapter"): one instance per model name.
 * Payloads are plain JSON objects; `find` hands out copies. `upsert` replaces a record whole;
 * its lifetime is `expiresIn` seconds (0: no expiry). `consume` stamps `consumed` (epoch
 * seconds) on a record that exists and rejects with `AlreadyConsumed` (state/errors.ts) when it
 * was stamped already, so one code or refresh token is redeemed once across every instance.
 */
export interface OidcAdapter {
  upsert(id: string, payload: Record<string, unknown>, expiresIn: number): Promise<void>;
  find(id: string): Promise<Record<string, unknown> | undefined>;
  findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined>;
  findByUid(uid: string): Promise<Record<string, unknown> | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

export interface Store {
  /** Saves a new pending login; `ttlMs` bounds how long it can be found at all. */
  createLogin(login: PendingLogin, ttlMs: number): Promise<void>;
  getLogin(authId: string): Promise<PendingLogin | undefined>;
  /** The newest pending login started from this interaction, if any. */
  getLoginByInteraction(interactionUid: string): Promise<PendingLogin | undefined>;
  /** Replaces the picture of a login that is still waiting for a verdict. */
  updatePicture(
    authId: string,
    picture: { image: string; nextChange: number; deadline: number },
    now: number,
  ): Promise<LoginUpdate>;
  /** Records the first verdict; any later one is refused with `settled`. */
  settleLogin(
    authId: string,
    approved: boolean,
    reason: string | undefined,
    now: number,
  ): Promise<LoginUpdate>;
  /** Marks an approved login used; succeeds exactly once across every caller. */
  consumeLogin(authId: string): Promise<LoginUpdate>;

  getPortal(): Promise<PortalRegistration | undefined>;
  /** Stores the portal registration if none is stored yet; returns false if one was. */
  setPortalIfAbsent(portal: PortalRegistration): Promise<boolean>;

  /** Records a sign-in: creates the user on first sight, else moves `lastSignInAt`. */
  recordSignIn(userId: string, now: number): Promise<UserRecord>;
  getUser(userId: string): Promise<UserRecord | undefined>;

  /**
   * Returns the value stored under `name`, or stores the one `create` makes and returns that.
   * Used for generated signing keys and cookie secrets, which every instance must share.
   */
  getOrCreateSecret(name: string, create: () => Promise<string>): Promise<string>;

  /** The adapter oidc-provider uses for one of its models. */
  oidcAdapter(model: string): OidcAdapter;

  /** True while the backing store answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export type Unsubscribe = () => void;

export interface Bus {
  publish(event: LoginEvent): Promise<void>;
  /** Calls `handler` for every event about `authId` until the returned function is called. */
  subscribe(authId: string, handler: (event: LoginEvent) => void): Unsubscribe;
  close(): Promise<void>;
}
