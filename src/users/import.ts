/**
 * The file `nopass-bridge users import` reads: a JSON array of users in the shape
 * `users show` prints, so a directory can be exported from one deployment and imported into
 * another. Only `userId` is required:
 *
 *   [{ "userId": "ada", "profile": { "givenName": "Ada", "email": "ada@example.com" },
 *      "emailVerified": true }]
 *
 * `emailVerified` and `phoneNumberVerified` default to false; set them only for values another
 * system really verified, since relying parties trust them. Every entry is checked before
 * anything is written, and a problem names the entry and the field.
 */
import { USER_ID_MAX } from '../interaction/user-id.ts';
import type { UserProfile, UserRecord } from '../state/types.ts';
import { checkValue, PROFILE_KEYS, type ProfileKey } from './profile.ts';

const TOP_KEYS = new Set([
  'userId',
  'profile',
  'emailVerified',
  'phoneNumberVerified',
  'createdAt',
  'registeredAt',
  'registrationId',
  'firstSignInAt',
  'lastSignInAt',
]);
const TIMES = ['createdAt', 'registeredAt', 'firstSignInAt', 'lastSignInAt'] as const;

/** A problem with the file, naming where it is. */
export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readEntry(entry: unknown, where: string, now: number): UserRecord {
  if (!isObject(entry)) throw new ImportError(`${where}: expected an object`);
  for (const key of Object.keys(entry)) {
    if (!TOP_KEYS.has(key)) throw new ImportError(`${where}: unknown field "${key}"`);
  }
  const { userId } = entry;
  if (typeof userId !== 'string' || userId.trim() !== userId || userId === '') {
    throw new ImportError(`${where}: userId must be a non-empty string without surrounding spaces`);
  }
  if (userId.length > USER_ID_MAX || /[\p{Cc}\p{Cf}]/u.test(userId)) {
    throw new ImportError(`${where}: userId must be at most ${USER_ID_MAX} printable characters`);
  }

  const profile: UserProfile = {};
  const given = entry.profile ?? {};
  if (!isObject(given)) throw new ImportError(`${where}: profile must be an object`);
  for (const [key, raw] of Object.entries(given)) {
    if (!PROFILE_KEYS.includes(key as ProfileKey)) {
      throw new ImportError(`${where}: unknown profile field "${key}"`);
    }
    const checked = checkValue(key as ProfileKey, raw);
    if (!checked.ok) throw new ImportError(`${where}: profile.${key}: ${checked.problem}`);
    if (checked.value !== undefined) profile[key as ProfileKey] = checked.value;
  }

  for (const flag of ['emailVerified', 'phoneNumberVerified'] as const) {
    if (entry[flag] !== undefined && typeof entry[flag] !== 'boolean') {
      throw new ImportError(`${where}: ${flag} must be true or false`);
    }
  }
  const user: UserRecord = {
    userId,
    profile,
    // A verification without the value it verified means nothing.
    emailVerified: entry.emailVerified === true && profile.email !== undefined,
    phoneNumberVerified: entry.phoneNumberVerified === true && profile.phoneNumber !== undefined,
    createdAt: now,
  };
  for (const time of TIMES) {
    const value = entry[time];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new ImportError(`${where}: ${time} must be a time in epoch milliseconds`);
    }
    user[time] = value;
  }
  if (entry.registrationId !== undefined) {
    if (typeof entry.registrationId !== 'string') {
      throw new ImportError(`${where}: registrationId must be a string`);
    }
    user.registrationId = entry.registrationId;
  }
  return user;
}

/** Parses and checks the whole file; throws `ImportError` at the first problem. */
export function readUserFile(text: string, source: string, now: number): UserRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ImportError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new ImportError(`${source} must hold a JSON array of users`);
  const seen = new Set<string>();
  return parsed.map((entry: unknown, index) => {
    const label = isObject(entry) && typeof entry.userId === 'string' ? ` (${entry.userId})` : '';
    const user = readEntry(entry, `${source}: entry ${index + 1}${label}`, now);
    if (seen.has(user.userId)) {
      throw new ImportError(
        `${source}: entry ${index + 1}: user id "${user.userId}" appears twice`,
      );
    }
    seen.add(user.userId);
    return user;
  });
}
