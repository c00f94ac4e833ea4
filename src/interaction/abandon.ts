/**
 * Closing NoPass authentication sessions the person walked away from: a cancelled sign-in, or
 * one replaced by a new attempt in the same interaction. Without this the phone keeps showing
 * a request nobody will ever finish. Best effort: a failure is logged and changes nothing for
 * the person, who has already moved on.
 */
import { requestLog } from '../http/request-id.ts';
import { loginStatus } from '../state/login-status.ts';
import type { PendingLogin } from '../state/types.ts';
import type { Context } from 'koa';
import type { InteractionDeps } from './deps.ts';

export function closeAbandoned(
  deps: InteractionDeps,
  ctx: Context,
  login: PendingLogin | undefined,
  why: 'cancelled' | 'replaced',
): void {
  if (!login || loginStatus(login, deps.now()) !== 'waiting') return;
  const log = requestLog(ctx, deps.log);
  // Not awaited: the browser's next page must not wait for the NoPass server.
  deps.nopass.closeAuthSession(login.authId).then(
    () => log.info({ why }, 'abandoned NoPass session closed'),
    (error: unknown) =>
      log.warn({ why, err_code: (error as { code?: string }).code }, 'could not close session'),
  );
}
