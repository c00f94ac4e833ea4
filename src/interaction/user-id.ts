/**
 * The user id a person types: NoPass's login name, at most 36 characters (vendor's guide).
 */

export const USER_ID_MAX = 36;

/** A message for a page: a catalogue key, its values, and English text if the key is unknown. */
export interface PageMessage {
  key: string;
  values?: Record<string, unknown>;
  fallback?: string;
}

/** Returns the cleaned user id, or the message that says what is wrong with it. */
export function parseUserId(
  raw: unknown,
): { ok: true; userId: string } | { ok: false; message: PageMessage } {
  if (typeof raw !== 'string' || raw.trim() === '') {
    return { ok: false, message: { key: 'userId.empty' } };
  }
  const userId = raw.trim();
  if (userId.length > USER_ID_MAX) {
    return { ok: false, message: { key: 'userId.tooLong', values: { max: USER_ID_MAX } } };
  }
  // Control characters can never be part of a login name and would corrupt logs and pages.
  if (/[\p{Cc}\p{Cf}]/u.test(userId)) {
    return { ok: false, message: { key: 'userId.badCharacters' } };
  }
  return { ok: true, userId };
}
