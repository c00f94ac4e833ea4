/**
 * The registration settings: whether the hosted pages offer "register with NoPass", which
 * profile fields the form asks and which it requires, the policy ValidateUserRegistration
 * applies (user id format and length, allowed e-mail domains), and how long a registration may
 * take. Read with the other settings, and like them a wrong value stops start-up naming it.
 */
import { list, SettingsError } from './index.ts';

/** Profile fields the registration form can ask, by their OpenID Connect claim names. */
export const PROFILE_FIELDS = ['given_name', 'family_name', 'email', 'phone_number'] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];

export interface RegistrationSettings {
  /** `REGISTRATION_ENABLED`: the user id page links to the registration form. */
  enabled: boolean;
  /** Fields the form asks, in the form's order. */
  fields: ProfileField[];
  /** Fields that must be filled in: a subset of `fields`. */
  required: ProfileField[];
  /** Lower-case domains an e-mail address may have (`*.example.com` for any subdomain); empty: any. */
  emailDomains: string[];
  /** What a new user id must match, besides its length. */
  userIdPattern: RegExp;
  /** Shortest new user id; the longest is NoPass's 36. */
  userIdMinLength: number;
  /** How long a registration may take from PreRegisterUser to ConfirmUserRegistration. */
  ttlMs: number;
}

type Env = Record<string, string | undefined>;

/** Letters and digits first, then also `.`, `_`, `@` and `-`: safe in URLs, logs and pages. */
const DEFAULT_USER_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._@-]*$';

const DOMAIN =
  /^(\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

function fieldList(env: Env, name: string, fallback: ProfileField[]): ProfileField[] {
  const listed = list(env, name);
  if (listed === undefined) return fallback;
  if (listed.length === 1 && listed[0]?.toLowerCase() === 'none') return [];
  const fields: ProfileField[] = [];
  for (const item of listed.map((entry) => entry.toLowerCase())) {
    if (!(PROFILE_FIELDS as readonly string[]).includes(item)) {
      throw new SettingsError(
        name,
        `"${item}" is not one of ${PROFILE_FIELDS.join(', ')} (or "none")`,
      );
    }
    if (!fields.includes(item as ProfileField)) fields.push(item as ProfileField);
  }
  return fields;
}

function enabled(env: Env): boolean {
  const raw = (env.REGISTRATION_ENABLED ?? '').trim().toLowerCase();
  if (raw === '' || ['1', 'true', 'on', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'off', 'no'].includes(raw)) return false;
  throw new SettingsError('REGISTRATION_ENABLED', `expected true or false, got "${raw}"`);
}

function whole(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SettingsError(name, `expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function pattern(env: Env): RegExp {
  const source = env.REGISTRATION_USER_ID_PATTERN?.trim() || DEFAULT_USER_ID_PATTERN;
  try {
    return new RegExp(source, 'u');
  } catch (error) {
    throw new SettingsError(
      'REGISTRATION_USER_ID_PATTERN',
      `not a valid regular expression: ${(error as Error).message}`,
    );
  }
}

/** Reads and checks the REGISTRATION_* settings. */
export function registrationSettings(env: Env): RegistrationSettings {
  const fields = fieldList(env, 'REGISTRATION_FIELDS', [...PROFILE_FIELDS]);
  const required = fieldList(env, 'REGISTRATION_REQUIRED', []);
  for (const field of required) {
    if (!fields.includes(field)) {
      throw new SettingsError(
        'REGISTRATION_REQUIRED',
        `"${field}" is required but not asked: add it to REGISTRATION_FIELDS`,
      );
    }
  }

  const emailDomains = (list(env, 'REGISTRATION_EMAIL_DOMAINS') ?? []).map((domain) =>
    domain.toLowerCase(),
  );
  for (const domain of emailDomains) {
    if (!DOMAIN.test(domain)) {
      throw new SettingsError(
        'REGISTRATION_EMAIL_DOMAINS',
        `"${domain}" is not a domain such as example.com or *.example.com`,
      );
    }
  }
  // Limiting domains only means something when every new user has an address to check.
  if (emailDomains.length > 0) {
    if (!fields.includes('email')) {
      throw new SettingsError(
        'REGISTRATION_FIELDS',
        'must include email when REGISTRATION_EMAIL_DOMAINS is set',
      );
    }
    if (!required.includes('email')) required.push('email');
  }

  return {
    enabled: enabled(env),
    fields,
    required,
    emailDomains,
    userIdPattern: pattern(env),
    userIdMinLength: whole(env, 'REGISTRATION_USER_ID_MIN_LENGTH', 3, 1, 36),
    ttlMs: whole(env, 'REGISTRATION_TTL_MS', 120_000, 1000, 3_600_000),
  };
}
