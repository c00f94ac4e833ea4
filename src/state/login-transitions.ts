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
  return {
    ok: true,
    login: { ...login, ...picture, pictureAt: now, pictureSeq: login.pictureSeq + 1 },
  };
}

/** The first verdict is final; a later one, even a contradicting one, is `settled`. */
export function withVerdict(
  login: PendingLogin,
  approved: boolean,
  reason: string | undefined,
  now: number,
): LoginUpdate {
  const status = loginStatus(login, now);
  if (status === 'expired') return { ok: false, reason: 'expired' };
  if (status !== 'waiting') return { ok: false, reason: 'settled' };
  const verdict = approved ? 'approved' : 'refused';
  // No `reason` key at all when there is none, so a record reads the same after a JSON trip.
  const settled: PendingLogin = { ...login, verdict, verdictAt: now };
  if (reason !== undefined) settled.reason = reason;
  return { ok: true, login: settled };
}

/** An approval finishes one interaction, once. */
export function consumed(login: PendingLogin): LoginUpdate {
  if (login.verdict !== 'approved') return { ok: false, reason: 'not_approved' };
  if (login.consumed) return { ok: false, reason: 'consumed' };
  return { ok: true, login: { ...login, consumed: true } };
}
