/**
 * What the simulator remembers, all in this process's memory: registered portals and the users
 * each knows, authentication sessions with their current picture, started user registrations,
 * and a log of every call exchanged with portals. Old finished records are dropped as new ones
 * arrive, so a long-running simulator stays small.
 */
import type { Logger } from 'pino';
import type { Casing, JsonObject } from './casing.ts';
import type { Faults } from './faults.ts';

/** A portal that completed the registration handshake. */
export interface PortalRecord {
  portalId: string;
  /** The bearer token the portal must present on every server operation. */
  authToken: string;
  /** Base URL of the portal, no trailing slash; callbacks go under `/api/PortalCommunication`. */
  webUrl: string;
  adminId: string;
  /** Shown on the phone page so a person knows which site is asking. */
  name: string;
  /** User ids NoPass knows for this portal. */
  users: Set<string>;
  registeredAt: number;
}

/** Where an authentication stands; `stopped` means it ran out of pictures or was closed. */
export type AuthStatus = 'waiting' | 'approved' | 'refused' | 'stopped';

/** One authentication session, from RequestAuthorization to its verdict or expiry. */
export interface AuthSession {
  authId: string;
  userId: string;
  portalId: string;
  /** Base64 of the current PNG-8 picture. */
  image: string;
  /** Lifetime of the current picture in milliseconds, as told to the portal. */
  nextChange: number;
  /** 1 for the first picture, then one more on every rotation. */
  pictureSeq: number;
  /** Epoch ms at which the current picture was made. */
  pictureAt: number;
  status: AuthStatus;
  /** The refusal reason sent to the portal: plain text. */
  reason?: string;
  /** Set once the portal called CloseAuthSession for it. */
  closedAt?: number;
  /**
   * Set for a social network sign-in: `userId` is then '' and the person names the user on the
   * social sign-in page (social.ts), which the approval sends to the portal.
   */
  social?: 'google' | 'facebook';
  createdAt: number;
  /** The pending rotation, if any. */
  timer?: NodeJS.Timeout;
}

/** The details a portal sent with PreRegisterUser (`data`), as the app would show them. */
export interface RegistrationData {
  givenName?: string;
  surName?: string;
  phoneNumber?: string;
  email?: string;
}

/**
 * Where a user registration stands: `started` by PreRegisterUser, then, once the app's part is
 * played (user-accounts.ts), `confirmed` when the portal accepted both ValidateUserRegistration
 * and ConfirmUserRegistration, `refused` when it answered the first with false, or `failed`
 * when it answered either with an error.
 */
export type RegistrationStatus = 'started' | 'confirmed' | 'refused' | 'failed';

/** A user registration started by PreRegisterUser, waiting for the app's part. */
export interface UserRegistration {
  otp: string;
  portalId: string;
  userId: string;
  redirectUrl: string;
  /** The link the portal was given; ConfirmUserRegistration sends it back. */
  registerLink: string;
  data: RegistrationData;
  status: RegistrationStatus;
  createdAt: number;
}

/** A server operation a portal called on the simulator. */
export interface ReceivedCall {
  direction: 'received';
  op: string;
  /** The portalId the body named, whether or not it turned out to be valid. */
  portalId: string | null;
  /** The request body, without any authToken property. */
  body: unknown;
  /** The HTTP status the simulator answered with. */
  status: number;
  time: number;
}

/** A call the simulator made to a portal. */
export interface SentCall {
  direction: 'sent';
  op: string;
  portalId: string | null;
  /** The body as sent (in the configured casing), without any authToken property. */
  body: JsonObject;
  /** The portal's HTTP status; null when it could not be reached or the call was dropped. */
  status: number | null;
  /** Why there is no status: a network error, a timeout, or the dropCallbacks fault. */
  error?: string;
  time: number;
}

export type CallRecord = ReceivedCall | SentCall;

/** Settings fixed when the simulator is created. */
export interface SimulatorConfig {
  nextChangeMs: number;
  maxPictures: number;
  callbackCasing: Casing;
  /** Users every portal knows from its registration on. */
  users: Set<string>;
  publicUrl: string | undefined;
  /** Timeout of one call to a portal. */
  portalTimeoutMs: number;
}

/**
 * Everything the simulator's modules share: its settings, state, clock, logger, fault knobs,
 * and the signal that `close()` fires to stop timers and in-flight calls.
 */
export interface SimulatorCore {
  config: SimulatorConfig;
  log: Logger;
  now: () => number;
  faults: Faults;
  portals: Map<string, PortalRecord>;
  /** The same portals, by authToken, for the bearer check. */
  portalsByToken: Map<string, PortalRecord>;
  auths: Map<string, AuthSession>;
  registrations: Map<string, UserRegistration>;
  calls: CallRecord[];
  /** Aborted by `close()`: cancels outbound calls and injected latency. */
  closing: AbortController;
}

/** How many call records are kept; older ones are dropped first. */
const MAX_CALLS = 1000;

/** Finished authentications and unused registrations are forgotten after this long. */
const RETENTION_MS = 60 * 60 * 1000;

/** Appends a call record, dropping the oldest past the cap. */
export function recordCall(sim: SimulatorCore, call: CallRecord): void {
  sim.calls.push(call);
  if (sim.calls.length > MAX_CALLS) sim.calls.splice(0, sim.calls.length - MAX_CALLS);
}

/** Drops finished authentications and registrations older than the retention period. */
export function sweep(sim: SimulatorCore): void {
  const cutoff = sim.now() - RETENTION_MS;
  for (const [authId, auth] of sim.auths) {
    if (auth.status !== 'waiting' && auth.createdAt < cutoff) sim.auths.delete(authId);
  }
  for (const [otp, registration] of sim.registrations) {
    if (registration.createdAt < cutoff) sim.registrations.delete(otp);
  }
}
