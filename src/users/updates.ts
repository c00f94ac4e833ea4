/**
 * UpdateUser: NoPass tells the portal that a user's details changed. Each field of `updates`
 * carries `{ newValue, forbiddenStore }`; `forbiddenStore: true` means the portal must not keep
 * that value, so the stored one is removed rather than replaced, and an empty `newValue` clears
 * the field too. A value NoPass sends is vouched for, so a new e-mail address or phone number
 * becomes verified and a removed one stops being.
 *
 * `login` is the user id itself, which is the subject of every token the bridge has issued: it
 * cannot change. An update naming the same login (or none) is accepted; one naming another is
 * refused as a whole, so NoPass learns the portal did not follow.
 */
import type { UserRecord } from '../state/types.ts';
import { checkValue, PROFILE_KEYS, type ProfileKey, type ValueProblem } from './profile.ts';

/** One field's change as UpdateUser sends it. */
export interface FieldUpdate {
  newValue?: string;
  forbiddenStore?: boolean;
}

export type ProfileUpdates = Partial<Record<ProfileKey | 'login', FieldUpdate | undefined>>;

/** A checked change: a field and its new value, or undefined to remove it. */
export interface ProfileChange {
  key: ProfileKey;
  value: string | undefined;
}

/** Why an update is refused as a whole. */
export type UpdateProblem =
  { kind: 'login_change' } | { kind: 'invalid_value'; key: ProfileKey; problem: ValueProblem };

/** Checks every field of `updates` and turns them into changes; nothing is applied yet. */
export function checkUpdates(
  userId: string,
  updates: ProfileUpdates,
): { ok: true; changes: ProfileChange[] } | { ok: false; problem: UpdateProblem } {
  const login = updates.login;
  if (login && !login.forbiddenStore) {
    const value = login.newValue?.trim();
    if (value && value !== userId) return { ok: false, problem: { kind: 'login_change' } };
  }

  const changes: ProfileChange[] = [];
  for (const key of PROFILE_KEYS) {
    const update = updates[key];
    if (!update) continue;
    if (update.forbiddenStore) {
      changes.push({ key, value: undefined });
      continue;
    }
    const checked = checkValue(key, update.newValue);
    if (!checked.ok) {
      return { ok: false, problem: { kind: 'invalid_value', key, problem: checked.problem } };
    }
    changes.push({ key, value: checked.value });
  }
  return { ok: true, changes };
}

/** The user with `changes` applied. Pure: the store may run it again on a conflict. */
export function applyChanges(user: UserRecord, changes: readonly ProfileChange[]): UserRecord {
  const profile = { ...user.profile };
  let { emailVerified, phoneNumberVerified } = user;
  for (const { key, value } of changes) {
    if (value === undefined) delete profile[key];
    else profile[key] = value;
    // Whatever NoPass sent is vouched for; whatever it removed no longer needs to be.
    if (key === 'email') emailVerified = value !== undefined;
    if (key === 'phoneNumber') phoneNumberVerified = value !== undefined;
  }
  return { ...user, profile, emailVerified, phoneNumberVerified };
}
