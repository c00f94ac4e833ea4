/**
 * How users and pending registrations may change: a sign-in, the policy's verdict on a
 * registration, the confirmation that creates its user, and the browser's single return. Pure
 * functions of the stored records and the
 * clock, shared by every store (like login-transitions.ts), so memory and Redis answer each
 * case the same way; the stores only add atomicity around them.
 */
import type {
  PendingRegistration,
  RegistrationUpdate,
  RegistrationVerdict,
  UserRecord,
} from './types.ts';

type Refusal = Extract<RegistrationUpdate, { ok: false }>;

/** The verdict may change until the registration is confirmed; after that it is final. */
export function withVerdict(
  registration: PendingRegistration,
  verdict: RegistrationVerdict,
): RegistrationUpdate {
  if (registration.status === 'confirmed') return { ok: false, reason: 'confirmed' };
  // No leftover of an earlier verdict, so a record reads the same after a JSON trip.
  const rest = { ...registration };
  delete rest.validated;
  delete rest.refusal;
  const next: PendingRegistration = verdict.accepted
    ? { ...rest, status: 'validated', validated: verdict.validated }
    : { ...rest, status: 'refused', refusal: verdict.refusal };
  return { ok: true, registration: next };
}

/**
 * What confirming decides before anything is written: a refused registration stays refused;
 * an already confirmed one is answered as confirmed again (NoPass may repeat the call); a user
 * id taken by anyone but this registration is `user_exists`. Undefined means: go ahead.
 */
export function confirmationBlocked(
  registration: PendingRegistration,
  existing: UserRecord | undefined,
): Refusal | 'again' | undefined {
  if (registration.status === 'refused') return { ok: false, reason: 'refused' };
  if (registration.status === 'confirmed') return 'again';
  if (existing && existing.registrationId !== registration.id) {
    return { ok: false, reason: 'user_exists' };
  }
  return undefined;
}

/**
 * The user a confirmed registration creates: NoPass's details when the policy accepted them,
 * else (NoPass confirmed without asking first) what the person typed, verified in nothing.
 */
export function registeredUser(registration: PendingRegistration, now: number): UserRecord {
  const validated = registration.validated ?? {
    profile: registration.requested,
    emailVerified: false,
    phoneNumberVerified: false,
  };
  return {
    userId: registration.userId,
    profile: { ...validated.profile },
    emailVerified: validated.emailVerified,
    phoneNumberVerified: validated.phoneNumberVerified,
    createdAt: now,
    registeredAt: now,
    registrationId: registration.id,
  };
}

/** The registration once its user exists. */
export function confirmedRegistration(
  registration: PendingRegistration,
  now: number,
): PendingRegistration {
  return { ...registration, status: 'confirmed', confirmedAt: now };
}

/** The browser comes back once, and only to a confirmed registration. */
export function withReturn(registration: PendingRegistration, now: number): RegistrationUpdate {
  if (registration.status !== 'confirmed') return { ok: false, reason: 'not_confirmed' };
  if (registration.returnedAt !== undefined) return { ok: false, reason: 'used' };
  return { ok: true, registration: { ...registration, returnedAt: now } };
}

/** A sign-in recorded on a user, creating the user when there is none yet. */
export function signedIn(
  existing: UserRecord | undefined,
  userId: string,
  now: number,
): UserRecord {
  if (!existing) {
    return {
      userId,
      profile: {},
      emailVerified: false,
      phoneNumberVerified: false,
      createdAt: now,
      firstSignInAt: now,
      lastSignInAt: now,
    };
  }
  return { ...existing, firstSignInAt: existing.firstSignInAt ?? now, lastSignInAt: now };
}
