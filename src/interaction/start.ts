/**
 * Starting a NoPass sign-in for an interaction: RequestAuthorization, then the pending login is
 * kept under its authId (and found again through the interaction uid), then the browser goes to
 * the picture page.
 */
import type { Context } from 'koa';
import type { Interaction } from 'oidc-provider';
import { BridgeError } from '../http/errors.ts';
import { bindLog, requestLog } from '../http/request-id.ts';
import { authRef } from '../log.ts';
import { interactionPath } from '../oidc/provider.ts';
import { closeAbandoned } from './abandon.ts';
import type { InteractionDeps } from './deps.ts';
import type { SocialNetwork } from '../state/types.ts';

/** RequestAuthorization's `social` numbers (vendor's guide). */
const SOCIAL_CODES: Record<SocialNetwork, number> = { google: 0, facebook: 1 };

/** How long an ended sign-in stays readable after LOGIN_TTL_MS, to show why it ended. */
const EXPIRED_KEPT_MS = 60_000;

/**
 * Starts the sign-in of `userId`, or with `social` a sign-in through that social network, which
 * names no user: the approval says whom NoPass recognised (see the AuthorizedUser callback).
 */
export async function startSignIn(
  deps: InteractionDeps,
  ctx: Context,
  interaction: Interaction,
  userId: string,
  social?: SocialNetwork,
): Promise<void> {
  const { client_id: clientParam } = interaction.params;
  const clientId = typeof clientParam === 'string' ? clientParam : '';
  let started;
  try {
    started = await deps.nopass.requestAuthorization(
      social === undefined ? { userId } : { userId: '', social: SOCIAL_CODES[social] },
      { log: requestLog(ctx, deps.log) },
    );
  } catch (error) {
    if (!(error instanceof BridgeError)) throw error;
    requestLog(ctx, deps.log).warn(
      { client_id: clientId, err_code: error.code },
      'sign-in could not start',
    );
    ctx.status = error.status;
    ctx.type = 'html';
    ctx.body = deps.views.page(ctx, 'login', {
      uid: interaction.uid,
      userId,
      error: { key: `errors.${error.code}`, fallback: error.description },
    });
    return;
  }

  const now = deps.now();
  const expiresAt = now + deps.settings.loginTtlMs;
  closeAbandoned(deps, ctx, await deps.store.getLoginByInteraction(interaction.uid), 'replaced');
  await deps.store.createLogin(
    {
      authId: started.authId,
      interactionUid: interaction.uid,
      userId,
      clientId,
      image: started.image,
      nextChange: started.nextChange,
      pictureAt: now,
      pictureSeq: 1,
      deadline: Math.min(now + started.nextChange + deps.settings.pictureGraceMs, expiresAt),
      expiresAt,
      verdict: 'waiting',
      consumed: false,
      createdAt: now,
      // Where the person signs in with the social network; for a NoPass user id there is none.
      ...(social === undefined ? {} : { social }),
      ...(social === undefined || !started.loginUrl ? {} : { loginUrl: started.loginUrl }),
    },
    // Kept a while past its end, so the page can still say it expired instead of losing it.
    deps.settings.loginTtlMs + EXPIRED_KEPT_MS,
  );
  deps.metrics.signInsStarted.inc();
  bindLog(ctx, { auth_ref: authRef(started.authId) });
  requestLog(ctx, deps.log).info({ client_id: clientId }, 'sign-in started');
  ctx.status = 303;
  ctx.redirect(`${interactionPath(interaction.uid)}/picture`);
}
