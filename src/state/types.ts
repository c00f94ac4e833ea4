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
  /**
   * Epoch ms at which the sign-in can no longer finish at all (LOGIN_TTL_MS after it started);
   * no picture's deadline goes past it, so the page says "expired" before the record is gone.
   */
  expiresAt?: number;
  /** Stored verdict; `waiting` until AuthorizedUser arrives. */
  verdict: 'waiting' | 'approved' | 'refused';
  /** NoPass's reason for a refusal: plain text, never markup. */
  reason?: string;
  /** Epoch ms of the verdict. */
  verdictAt?: number;
  /** Set once the approval has finished the interaction: an approval is used once. */
  consumed: boolean;
  createdAt: number;
  /**
   * Set for a sign-in through a social network: `userId` is then '' until the approval names
   * the user (see `settleLogin`).
   */
  social?: SocialNetwork;
  /** Where NoPass sends the person to sign in with the social network, when it said. */
  loginUrl?: string;
}

/** The social networks NoPass can authenticate with (RequestAuthorization's `social`). */
export type SocialNetwork = 'google' | 'facebook';

/** The portal registration NoPass handed out in ConfirmRegistration. */
export interface PortalRegistration {
  portalId: string;
  authToken: string;
  registeredAt: number;
}

/**
 * What the bridge keeps about a person besides the user id, named as on the NoPass wire
 * (ValidateUserRegistration, UpdateUser). Absent means unknown; a value is never empty.
 */
export interface UserProfile {
  givenName?: string;
  surName?: string;
  email?: string;
  phoneNumber?: string;
  /** An http(s) URL: the `picture` claim. */
  profileImageUrl?: string;
  /** A language tag such as `de-CH`: the `locale` claim. */
  locale?: string;
}

/** The profile fields NoPass can vouch for, and so the ones with a `*_verified` claim. */
export type VerifiableField = 'email' | 'phoneNumber';

/** A user in the bridge's directory. Optional fields are absent, never undefined. */
export interface UserRecord {
  userId: string;
  profile: UserProfile;
  /**
   * True only while `profile.email` is a value the NoPass server itself sent, in a confirmed
   * ValidateUserRegistration or in UpdateUser. What a person typed into a form never counts.
   */
  emailVerified: boolean;
  /** The same for `profile.phoneNumber`. */
  phoneNumberVerified: boolean;
  /** Epoch ms the bridge first knew the user: registration, import or first sign-in. */
  createdAt: number;
  /** Epoch ms NoPass confirmed the user's registration through this bridge. */
  registeredAt?: number;
  /** The id of that registration, so a repeated confirmation is recognised as the same one. */
  registrationId?: string;
  firstSignInAt?: number;
  lastSignInAt?: number;
}

/**
 * Where a registration started from the hosted pages stands: `started` after PreRegisterUser,
 * then `validated` or `refused` by the registration policy when ValidateUserRegistration
 * arrives, then `confirmed` when ConfirmUserRegistration created the user.
 */
export type RegistrationStatus = 'started' | 'validated' | 'refused' | 'confirmed';

/** One registration between PreRegisterUser and the browser's return to the bridge. */
export interface PendingRegistration {
  /** NoPass's one-time password for it: what ValidateUserRegistration and its sequel name. */
  otp: string;
  /** The bridge's own id for it, chosen before NoPass answered: the end of the redirectUrl. */
  id: string;
  userId: string;
  /** What the person typed on the registration form; sent to NoPass, never counted as verified. */
  requested: UserProfile;
  /** The profile the user is created with, once the policy accepted NoPass's details. */
  validated?: { profile: UserProfile; emailVerified: boolean; phoneNumberVerified: boolean };
  status: RegistrationStatus;
  /** Why the policy refused it: a code the return page explains. */
  refusal?: string;
  /** SHA-256 (base64url) of the secret in the cookie of the browser that started it. */
  browserRef: string;
  /** The OIDC interaction that started it: the browser is signed in there if it is still alive. */
  interactionUid: string;
  clientId: string;
  /** Shown on the return page when the interaction is gone. */
  clientName?: string;
  /** Where that page's "back to the application" link goes. */
  applicationUrl?: string;
  createdAt: number;
  /** Epoch ms after which an unconfirmed registration is gone. */
  expiresAt: number;
  confirmedAt?: number;
  /** Set when the browser came back and was let through: the way back works once. */
  returnedAt?: number;
}

/** Outcome of an attempt to change a pending registration. */
export type RegistrationUpdate =
  | { ok: true; registration: PendingRegistration; user?: UserRecord }
  | {
      ok: false;
      reason: 'not_found' | 'refused' | 'confirmed' | 'not_confirmed' | 'used' | 'user_exists';
    };

/** What the registration policy decided about the details NoPass sent. */
export type RegistrationVerdict =
  | { accepted: true; validated: NonNullable<PendingRegistration['validated']> }
  | { accepted: false; refusal: string };

/** What a person allowed one client on the consent page, as the account page lists it. */
export interface ConsentRecord {
  clientId: string;
  /** The scopes allowed, sorted. */
  scopes: string[];
  /**
   * Epoch ms at which it is forgotten unless given again. A user's consents are renewed
   * together whenever they give one, so every consent of a user shares this moment.
   */
  expiresAt: number;
}

/** The oidc-provider records saved for one account, by id; some may have expired since. */
export interface AccountRecords {
  grantIds: string[];
  sessionIds: string[];
}

/**
 * What a callback changed; the bus carries only this, the state itself stays in the store.
 * `resync` is never published: a bus delivers it to its own listeners after it may have missed
 * events (its connection to Redis was interrupted), so they read the current state again.
 */
export interface LoginEvent {
  authId: string;
  kind: 'picture' | 'verdict' | 'resync';
  /**
   * The request id of the callback that caused it, so the instance holding the picture page
   * can log it and one sign-in can be followed across instances.
   */
  requestId?: string;
}

/** Outcome of an attempt to change a pending login. */
export type LoginUpdate =
  | { ok: true; login: PendingLogin }
  | {
      ok: false;
      /** `user_unknown`: a social sign-in was approved without naming the user. */
      reason: 'not_found' | 'settled' | 'expired' | 'consumed' | 'not_approved' | 'user_unknown';
    };

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
    /**
     * Whom NoPass approved, for a social sign-in: it becomes the login's `userId`. Ignored for
     * any other sign-in, whose user id was fixed when it started.
     */
    approvedUserId?: string,
  ): Promise<LoginUpdate>;
  /** Marks an approved login used; succeeds exactly once across every caller. */
  consumeLogin(authId: string): Promise<LoginUpdate>;

  getPortal(): Promise<PortalRegistration | undefined>;
  /** Stores the portal registration if none is stored yet; returns false if one was. */
  setPortalIfAbsent(portal: PortalRegistration): Promise<boolean>;

  /**
   * Allows one new portal registration until `until` (epoch ms), even over a stored one: the
   * operator's `portal open-window`.
   */
  openPortalWindow(until: number): Promise<void>;
  /** The end of an open window (epoch ms), if one is open at `now`. */
  getPortalWindow(now: number): Promise<number | undefined>;
  /** Closes the window if it is open at `now` and says so; of two racing callers, one wins. */
  claimPortalWindow(now: number): Promise<boolean>;
  /** Stores a portal registration over any stored one (only through an open window). */
  replacePortal(portal: PortalRegistration): Promise<void>;

  /**
   * Records a sign-in: creates the user (empty profile) on first sight, sets `firstSignInAt`
   * once and moves `lastSignInAt`.
   */
  recordSignIn(userId: string, now: number): Promise<UserRecord>;
  getUser(userId: string): Promise<UserRecord | undefined>;
  /** Stores a user unless one with its id exists; false when one did. */
  createUser(user: UserRecord): Promise<boolean>;
  /** Stores a user, replacing any with its id. */
  putUser(user: UserRecord): Promise<void>;
  /**
   * Replaces a user with `apply(stored)`, atomically: `apply` is a pure function of the record
   * and may run more than once. Undefined when there is no such user.
   */
  changeUser(
    userId: string,
    apply: (user: UserRecord) => UserRecord,
  ): Promise<UserRecord | undefined>;
  /** Forgets a user; false when there was none. */
  deleteUser(userId: string): Promise<boolean>;
  /** Every user, ordered by user id. */
  listUsers(): Promise<UserRecord[]>;

  /** Saves a new pending registration, found by otp and by id for `ttlMs`. */
  createRegistration(registration: PendingRegistration, ttlMs: number): Promise<void>;
  getRegistration(otp: string): Promise<PendingRegistration | undefined>;
  getRegistrationById(id: string): Promise<PendingRegistration | undefined>;
  /** Records the policy's verdict on NoPass's details; refused with `confirmed` once confirmed. */
  settleRegistration(otp: string, verdict: RegistrationVerdict): Promise<RegistrationUpdate>;
  /**
   * Confirms a registration that was not refused: creates its user and marks it confirmed, once
   * across every caller (a repeated confirmation answers the same success), then keeps it
   * `keepMs` longer for the browser's return. `user_exists` when another registration, an
   * import or a sign-in created the user id first.
   */
  confirmRegistration(otp: string, now: number, keepMs: number): Promise<RegistrationUpdate>;
  /** Marks the browser's return of a confirmed registration used; succeeds exactly once. */
  finishRegistration(otp: string, now: number): Promise<RegistrationUpdate>;

  /** The grants and sessions oidc-provider saved for an account (indexed on upsert). */
  accountRecords(accountId: string): Promise<AccountRecords>;
  /** Forgets that index, once the records it names are revoked. */
  forgetAccountRecords(accountId: string): Promise<void>;

  /**
   * Returns the value stored under `name`, or stores the one `create` makes and returns that.
   * Used for generated signing keys and cookie secrets, which every instance must share.
   */
  getOrCreateSecret(name: string, create: () => Promise<string>): Promise<string>;

  /** The adapter oidc-provider uses for one of its models. */
  oidcAdapter(model: string): OidcAdapter;

  /**
   * Remembers that the OIDC session `sessionUid` was signed in through the NoPass
   * authentication `authId`, so that signing out can close it (CloseAuthSession). A session
   * signed in again (prompt=login, max_age) collects every authId; the record lives `ttlMs`
   * from the last addition, as long as a session can.
   */
  addSessionAuth(sessionUid: string, authId: string, ttlMs: number): Promise<void>;
  /** The authIds remembered for a session, forgotten as they are handed out; [] when none. */
  takeSessionAuths(sessionUid: string): Promise<string[]>;

  /** The scopes `userId` allowed the client `clientId` on the consent page; [] when none. */
  getConsent(userId: string, clientId: string): Promise<string[]>;
  /** Adds to what `userId` allowed `clientId`; the user's consents live `ttlMs` from now. */
  addConsent(userId: string, clientId: string, scopes: string[], ttlMs: number): Promise<void>;
  /** Every consent `userId` gave, ordered by client id; [] when none. */
  listConsents(userId: string): Promise<ConsentRecord[]>;
  /**
   * Forgets what `userId` allowed `clientId`, leaving their other consents as they are; false
   * when there was nothing to forget (of two racing callers, one gets true).
   */
  withdrawConsent(userId: string, clientId: string): Promise<boolean>;
  /** Forgets every consent `userId` gave, to every client. */
  forgetConsents(userId: string): Promise<void>;

  /** True while the backing store answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export type Unsubscribe = () => void;

export interface Bus {
  publish(event: LoginEvent): Promise<void>;
  /** Calls `handler` for every event about `authId` until the returned function is called. */
  subscribe(authId: string, handler: (event: LoginEvent) => void): Unsubscribe;
  /** True while events published on any instance reach this one's subscribers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
