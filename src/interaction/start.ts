/**
 * Starting a NoPass sign-in for an interaction: RequestAuthorization, then the pending login is
 * kept under its authId (and found again through the interaction uid), then the browser goes to
 * the picture page.
 */
import type { Context } from 'koa';
import type { Interaction } from 'oidc-provider';
import { BridgeError } from '../http/errors.ts';
import { authRef } from '../log.ts';
import { interactionPath } from '../oidc/provider.ts';
import type { InteractionDeps } from './deps.ts';

export async function startSignIn(
  deps: InteractionDeps,
  ctx: Context,
  interaction: Interaction,
  userId: string,
): Promise<void> {
  const { client_id: clientParam } = interaction.params;
  const clientId = typeof clientParam === 'string' ? clientParam : '';
  let started;
  try {
    started = await deps.nopass.requestAuthorization({ userId });
  } catch (error) {
    if (!(error instanceof BridgeError)) throw error;
    deps.log.warn(
      { interaction_uid: interaction.uid, client_id: clientId, err_code: error.code },
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
      deadline: now + started.nextChange + deps.settings.pictureGraceMs,
      verdict: 'waiting',
      consumed: false,
      createdAt: now,
    },
    deps.settings.loginTtlMs,
  );
  deps.log.info(
    { interaction_uid: interaction.uid, client_id: clientId, auth_ref: authRef(started.authId) },
    'sign-in started',
  );
  ctx.status = 303;
  ctx.redirect(`${interactionPath(interaction.uid)}/picture`);
}
