/**
 * The registration policy, applied twice: to what a person types on the registration form
 * (before anything is sent to NoPass, so mistakes are shown next to the field), and to the
 * details NoPass sends in ValidateUserRegistration (the answer NoPass acts on). The rules are
 * the settings' (settings/registration.ts): the user id's format and length, the fields that
 * are required, the allowed e-mail domains, and no second user with the same id.
 *
 * What NoPass sends wins over what was typed, and only what NoPass sent counts as vouched for
 * (`email_verified`, `phone_number_verified`): NoPass's details are its own record of the
 * person, delivered server to server, while the form's are whatever a browser posted.
 */
import type { PageMessage } from '../interaction/user-id.ts';
import { USER_ID_MAX } from '../interaction/user-id.ts';
import type { ProfileField, RegistrationSettings } from '../settings/registration.ts';
import type {
  PendingRegistration,
  RegistrationVerdict,
  UserProfile,
  UserRecord,
} from '../state/types.ts';
import {
  checkValue,
  compactProfile,
  emailDomainAllowed,
  FORM_KEYS,
  type ProfileKey,
} from './profile.ts';

/** Why the policy refused NoPass's details; the return page explains each (`registered.refusals`). */
export type RegistrationRefusal =
  | 'user_id_mismatch'
  | 'user_id_format'
  | 'user_exists'
  | 'invalid_details'
  | 'missing_required'
  | 'email_domain';

/** A problem with one field of the registration form. */
export interface FormProblem {
  field: 'userId' | ProfileField;
  message: PageMessage;
}

/** What the form's fields hold once checked. */
export interface RegistrationForm {
  userId: string;
  profile: UserProfile;
}

/** The details of ValidateUserRegistration, as NoPass sent them (absent: not sent). */
export interface NoPassDetails {
  givenName?: string;
  surName?: string;
  phoneNumber?: string;
  email?: string;
  login?: string;
  profileImageUrl?: string;
}

/** The message for a user id the policy refuses, or undefined when it is acceptable. */
export function userIdProblem(
  userId: string,
  settings: RegistrationSettings,
): PageMessage | undefined {
  if (userId === '') return { key: 'userId.empty' };
  if (userId.length > USER_ID_MAX) return { key: 'userId.tooLong', values: { max: USER_ID_MAX } };
  if (/[\p{Cc}\p{Cf}]/u.test(userId)) return { key: 'userId.badCharacters' };
  if (userId.length < settings.userIdMinLength) {
    return { key: 'register.problems.userIdTooShort', values: { min: settings.userIdMinLength } };
  }
  if (!settings.userIdPattern.test(userId)) return { key: 'register.problems.userIdFormat' };
  return undefined;
}

/** Reads and checks the registration form; on failure, every problem found, by field. */
export function readRegistrationForm(
  body: Record<string, unknown>,
  settings: RegistrationSettings,
): { ok: true; form: RegistrationForm } | { ok: false; problems: FormProblem[] } {
  const problems: FormProblem[] = [];
  const userId = typeof body.userId === 'string' ? body.userId.trim() : '';
  const idProblem = userIdProblem(userId, settings);
  if (idProblem) problems.push({ field: 'userId', message: idProblem });

  const values: Partial<Record<ProfileKey, string>> = {};
  for (const field of settings.fields) {
    const key = FORM_KEYS[field];
    const checked = checkValue(key, body[field]);
    if (!checked.ok) {
      problems.push({ field, message: { key: `register.problems.${checked.problem}` } });
    } else if (checked.value === undefined) {
      if (settings.required.includes(field)) {
        problems.push({ field, message: { key: 'register.problems.required' } });
      }
    } else if (key === 'email' && !emailDomainAllowed(checked.value, settings.emailDomains)) {
      problems.push({
        field,
        message: {
          key: 'register.problems.emailDomain',
          values: { domains: settings.emailDomains.join(', ') },
        },
      });
    } else {
      values[key] = checked.value;
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, form: { userId, profile: compactProfile(values) } };
}

/** NoPass's keys that carry a profile value, and which profile field each fills. */
const DETAIL_KEYS: readonly ProfileKey[] = [
  'givenName',
  'surName',
  'phoneNumber',
  'email',
  'profileImageUrl',
];

/**
 * The policy's verdict on ValidateUserRegistration: the profile the user will be created with
 * (NoPass's values, else the typed ones) or the reason for refusing. `existing` is the user
 * already stored under this id, if any.
 */
export function judgeRegistration(
  registration: PendingRegistration,
  details: NoPassDetails,
  settings: RegistrationSettings,
  existing: UserRecord | undefined,
): RegistrationVerdict {
  const refuse = (refusal: RegistrationRefusal): RegistrationVerdict => ({
    accepted: false,
    refusal,
  });
  // NoPass's login is the user id it registered; it must be the one this registration is for.
  const login = details.login?.trim();
  if (login && login !== registration.userId) return refuse('user_id_mismatch');
  if (userIdProblem(registration.userId, settings)) return refuse('user_id_format');
  if (existing && existing.registrationId !== registration.id) return refuse('user_exists');

  const fromNoPass: Partial<Record<ProfileKey, string>> = {};
  for (const key of DETAIL_KEYS) {
    const checked = checkValue(key, details[key as keyof NoPassDetails]);
    if (!checked.ok) return refuse('invalid_details');
    if (checked.value !== undefined) fromNoPass[key] = checked.value;
  }
  const profile = compactProfile({ ...registration.requested, ...fromNoPass });

  for (const field of settings.required) {
    if (profile[FORM_KEYS[field]] === undefined) return refuse('missing_required');
  }
  if (settings.emailDomains.length > 0) {
    if (!profile.email || !emailDomainAllowed(profile.email, settings.emailDomains)) {
      return refuse('email_domain');
    }
  }
  return {
    accepted: true,
    validated: {
      profile,
      emailVerified: fromNoPass.email !== undefined,
      phoneNumberVerified: fromNoPass.phoneNumber !== undefined,
    },
  };
}
