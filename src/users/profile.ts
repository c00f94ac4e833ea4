/**
 * Profile values: what each field may hold, checked the same way wherever a value comes from
 * (the registration form, ValidateUserRegistration, UpdateUser, an imported file), and how the
 * form's claim names map to the NoPass names the directory keeps.
 */
import type { ProfileField } from '../settings/registration.ts';
import type { UserProfile } from '../state/types.ts';

export type ProfileKey = keyof UserProfile;

/** Every profile field, in the order pages and the command line show them. */
export const PROFILE_KEYS: readonly ProfileKey[] = [
  'givenName',
  'surName',
  'email',
  'phoneNumber',
  'profileImageUrl',
  'locale',
];

/** The registration form's fields (claim names) → the directory's names. */
export const FORM_KEYS: Readonly<Record<ProfileField, ProfileKey>> = {
  given_name: 'givenName',
  family_name: 'surName',
  email: 'email',
  phone_number: 'phoneNumber',
};

/** What is wrong with a value; each has a message in the page catalogues (`register.problems`). */
export type ValueProblem =
  | 'too_long'
  | 'bad_characters'
  | 'invalid_email'
  | 'invalid_phone'
  | 'invalid_url'
  | 'invalid_locale';

/** Longest value of each field. NoPass allows 2084 everywhere; claims stay well below that. */
export const MAX_LENGTH: Readonly<Record<ProfileKey, number>> = {
  givenName: 256,
  surName: 256,
  email: 254,
  phoneNumber: 32,
  profileImageUrl: 2084,
  locale: 35,
};

const EMAIL = /^[^\s@<>()[\]",;:\\]+@[^\s@<>()[\]",;:\\.]+(?:\.[^\s@<>()[\]",;:\\.]+)+$/u;
const PHONE = /^\+?[0-9(][0-9 ().-]{1,30}[0-9]$/;
const LOCALE = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$/;
// Control and format characters never belong in a name and would corrupt logs and pages.
const CONTROL = /[\p{Cc}\p{Cf}]/u;

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'https:' || protocol === 'http:';
}

/**
 * Checks one value. Surrounding spaces are dropped, and an empty value means "none"
 * (`value: undefined`); anything else either passes as it is or is refused with its problem.
 */
export function checkValue(
  key: ProfileKey,
  raw: unknown,
): { ok: true; value: string | undefined } | { ok: false; problem: ValueProblem } {
  if (raw === undefined || raw === null) return { ok: true, value: undefined };
  if (typeof raw !== 'string') return { ok: false, problem: 'bad_characters' };
  const value = raw.trim();
  if (value === '') return { ok: true, value: undefined };
  if (value.length > MAX_LENGTH[key]) return { ok: false, problem: 'too_long' };
  if (CONTROL.test(value)) return { ok: false, problem: 'bad_characters' };

  if (key === 'email' && !EMAIL.test(value)) return { ok: false, problem: 'invalid_email' };
  if (key === 'phoneNumber' && !PHONE.test(value)) return { ok: false, problem: 'invalid_phone' };
  if (key === 'profileImageUrl' && !isHttpUrl(value)) return { ok: false, problem: 'invalid_url' };
  if (key === 'locale' && !LOCALE.test(value)) return { ok: false, problem: 'invalid_locale' };
  return { ok: true, value };
}

/** Whether an e-mail address's domain is one of `domains` (all are allowed when none are given). */
export function emailDomainAllowed(email: string, domains: readonly string[]): boolean {
  if (domains.length === 0) return true;
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return domains.some((allowed) =>
    allowed.startsWith('*.') ? domain.endsWith(allowed.slice(1)) : domain === allowed,
  );
}

/** A copy of `profile` with only the fields that have a value. */
export function compactProfile(
  profile: Partial<Record<ProfileKey, string | undefined>>,
): UserProfile {
  const compact: UserProfile = {};
  for (const key of PROFILE_KEYS) {
    const value = profile[key];
    if (value !== undefined && value !== '') compact[key] = value;
  }
  return compact;
}
