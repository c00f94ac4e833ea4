/**
 * The one place that decides where a pending login stands. Expiry is derived from the clock and
 * the login's deadline instead of being written by a sweeper, so every instance agrees on it
 * without coordination.
 */
import type { LoginStatus, PendingLogin } from './types.ts';

export function loginStatus(login: PendingLogin, now: number): LoginStatus {
  if (login.verdict !== 'waiting') return login.verdict;
  return now > login.deadline ? 'expired' : 'waiting';
}
