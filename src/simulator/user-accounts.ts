/**
 * The app's part of a user's life at a portal, played by the simulator: finishing a
 * registration the portal started with PreRegisterUser (ValidateUserRegistration, then, if the
 * portal answered `true`, ConfirmUserRegistration, after which the user is known for
 * RequestAuthorization), and the account calls NoPass makes on its own initiative (UpdateUser,
 * DeleteUser). Reached from the registration page and from the control API.
 */
import { stopAuth } from './auth-sessions.ts';
import type { JsonObject } from './casing.ts';
import { Problem } from './http.ts';
import { callPortal, type PortalReply } from './portal-calls.ts';
import type {
  PortalRecord,
  RegistrationData,
  RegistrationStatus,
  SimulatorCore,
  UserRegistration,
} from './state.ts';

/** What finishing a registration did, call by call. */
export interface RegistrationOutcome {
  status: RegistrationStatus;
  /** The portal's status for ValidateUserRegistration; null when not sent or unanswered. */
  validateStatus: number | null;
  /** The portal's status for ConfirmUserRegistration; null when not sent or unanswered. */
  confirmStatus: number | null;
  /** Where the app sends the browser back to. */
  redirectUrl: string;
}

export interface CompletionOptions {
  /** Details the app sends instead of those the portal gave (the person changed them). */
  details?: RegistrationData & { profileImageUrl?: string };
  /** Confirms without asking first, as a server that skips ValidateUserRegistration would. */
  skipValidation?: boolean;
}

/** The registration with this otp, or a 404. */
export function findRegistration(sim: SimulatorCore, otp: string | undefined): UserRegistration {
  const registration = otp === undefined ? undefined : sim.registrations.get(otp);
  if (!registration) throw new Problem(404, 'No registration with this otp.');
  return registration;
}

/** The portal with this id, or the only one registered when none is named; else a 404/400. */
export function findPortal(sim: SimulatorCore, portalId: string | undefined): PortalRecord {
  if (portalId !== undefined) {
    const portal = sim.portals.get(portalId);
    if (!portal) throw new Problem(404, 'No portal with this portalId is registered.');
    return portal;
  }
  const [only, ...others] = sim.portals.values();
  if (!only) throw new Problem(404, 'No portal is registered.');
  if (others.length > 0) throw new Problem(400, 'Several portals are registered: name one.');
  return only;
}

/** Plays the app finishing a registration. Only a registration still `started` can finish. */
export async function completeRegistration(
  sim: SimulatorCore,
  registration: UserRegistration,
  options: CompletionOptions = {},
): Promise<RegistrationOutcome> {
  if (registration.status !== 'started') {
    throw new Problem(409, `This registration is ${registration.status} already.`);
  }
  const portal = findPortal(sim, registration.portalId);
  const details = { ...registration.data, ...options.details };
  const outcome = (
    status: RegistrationStatus,
    validate: PortalReply | undefined,
    confirm: PortalReply | undefined,
  ): RegistrationOutcome => {
    registration.status = status;
    return {
      status,
      validateStatus: validate?.status ?? null,
      confirmStatus: confirm?.status ?? null,
      redirectUrl: registration.redirectUrl,
    };
  };

  let validate: PortalReply | undefined;
  if (!options.skipValidation) {
    validate = await callPortal(sim, portal, 'ValidateUserRegistration', {
      otp: registration.otp,
      givenName: details.givenName ?? '',
      surName: details.surName ?? '',
      phoneNumber: details.phoneNumber ?? '',
      email: details.email ?? '',
      login: registration.userId,
      profileImageUrl: details.profileImageUrl ?? '',
    });
    if (validate.status !== 200) return outcome('failed', validate, undefined);
    if (validate.body !== true) return outcome('refused', validate, undefined);
  }

  const confirm = await callPortal(sim, portal, 'ConfirmUserRegistration', {
    otp: registration.otp,
    registerLink: registration.registerLink,
  });
  if (confirm.status !== 200) return outcome('failed', validate, confirm);
  portal.users.add(registration.userId);
  sim.log.info({ portal_id: portal.portalId }, 'user registered');
  return outcome('confirmed', validate, confirm);
}

/**
 * Sends UpdateUser. `updates` goes as given (`{ email: { newValue, forbiddenStore } }`);
 * `sendPortalId` puts another portalId in the body, to see a portal refuse it.
 */
export function sendUpdateUser(
  sim: SimulatorCore,
  portal: PortalRecord,
  userId: string,
  updates: JsonObject,
  sendPortalId?: string,
): Promise<PortalReply> {
  return callPortal(sim, portal, 'UpdateUser', {
    userId,
    portalId: sendPortalId ?? portal.portalId,
    updates,
  });
}

/**
 * Sends DeleteUser and forgets the user at this portal, whatever the portal answers: NoPass has
 * deleted the account on its side either way (as DeleteInitialPortal does).
 */
export async function sendDeleteUser(
  sim: SimulatorCore,
  portal: PortalRecord,
  userId: string,
  sendPortalId?: string,
): Promise<PortalReply> {
  const reply = await callPortal(sim, portal, 'DeleteUser', {
    userId,
    portalId: sendPortalId ?? portal.portalId,
  });
  portal.users.delete(userId);
  for (const auth of sim.auths.values()) {
    if (auth.portalId === portal.portalId && auth.userId === userId) stopAuth(auth);
  }
  return reply;
}
