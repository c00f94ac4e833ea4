/**
 * How a pending login may change: a new picture, the verdict, the use of an approval. Pure
 * functions of the stored record and the clock, shared by every store, so memory and Redis
 * answer each case the same way. The stores only add atomicity around them.
 */
import { loginStatus } from './login-status.ts';
import type { LoginUpdate, PendingLogin } from './types.ts';

/** A new picture replaces the current one while the login still waits for a verdict. */
export function withPicture(
  login: PendingLogin,
  picture: { image: string; nextChange: number; deadline: number },
  now: number,
): LoginUpdate {
  const status = loginStatus(login, now);
  if (status === 'expired') return { ok: false, reason: 'expired' };
  if (status !== 'waiting') return { ok: false, reason: 'settled' };
  const deadline = Math.min(picture.deadline, login.expiresAt ?? Infinity);
  return {
    ok: true,
    login: { ...login, ...picture, deadline, pictureAt: now, pictureSeq: login.pictureSeq + 1 },
  };
}

/**
 * The first verdict is final; a later one, even a contradicting one, is `settled`. A social
 * sign-in starts without a user id, so its approval names the user (`approvedUserId`); any
 * other sign-in keeps the user id it started with, whatever the verdict says.
 */
export function withVerdict(
  login: PendingLogin,
  approved: boolean,
  reason: string | undefined,
  now: number,
  approvedUserId?: string,
): LoginUpdate {
  const status = loginStatus(login, now);
  if (status === 'expired') return { ok: false, reason: 'expired' };
  if (status !== 'waiting') return { ok: false, reason: 'settled' };
  // Without a name the approval could never become a subject: the login keeps waiting for a
  // verdict that says whom NoPass approved.
  const social = login.social !== undefined;
  if (approved && social && !approvedUserId) return { ok: false, reason: 'user_unknown' };
  const verdict = approved ? 'approved' : 'refused';
  // No `reason` key at all when there is none, so a record reads the same after a JSON trip.
  const settled: PendingLogin = { ...login, verdict, verdictAt: now };
  if (reason !== undefined) settled.reason = reason;
  if (approved && social && approvedUserId) settled.userId = approvedUserId;
  return { ok: true, login: settled };
}

/** An approval finishes one interaction, once. */
export function consumed(login: PendingLogin): LoginUpdate {
  if (login.verdict !== 'approved') return { ok: false, reason: 'not_approved' };
  if (login.consumed) return { ok: false, reason: 'consumed' };
  return { ok: true, login: { ...login, consumed: true } };
}
