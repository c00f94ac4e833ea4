/**
 * The user id a person types: NoPass's login name, at most 36 characters (vendor's guide).
 */

export const USER_ID_MAX = 36;

/** Returns the cleaned user id, or an explanation of what is wrong with it. */
export function parseUserId(
  raw: unknown,
): { ok: true; userId: string } | { ok: false; message: string } {
  if (typeof raw !== 'string' || raw.trim() === '') {
    return { ok: false, message: 'Please enter your user id.' };
  }
  const userId = raw.trim();
  if (userId.length > USER_ID_MAX) {
    return { ok: false, message: `A user id is at most ${USER_ID_MAX} characters long.` };
  }
  // Control characters can never be part of a login name and would corrupt logs and pages.
  if (/[\p{Cc}\p{Cf}]/u.test(userId)) {
    return { ok: false, message: 'The user id contains characters that are not allowed.' };
  }
  return { ok: true, userId };
}
