/**
 * Signing in through a social network (`NOPASS_SOCIAL`): the user id page offers a button per
 * network, and POST /interaction/:uid/social starts a NoPass sign-in that names no user, with
 * RequestAuthorization's `social`. The picture page then offers NoPass's `loginUrl` in a new tab
 * and keeps following the sign-in as usual, so the approval is still bound to this browser and
 * the person needs no way back from the social network's pages. The ID token's subject is the
 * NoPass user the approval names.
 */
import type { Context } from 'koa';
import type { SocialNetwork } from '../state/types.ts';
import type { InteractionDeps } from './deps.ts';
import { loadInteraction } from './interaction.ts';
import { startSignIn } from './start.ts';

/** POST /interaction/:uid/social with `network`: one of the networks the settings offer. */
export async function submitSocial(deps: InteractionDeps, ctx: Context): Promise<void> {
  const interaction = await loadInteraction(deps.provider, ctx);
  const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
  const network = body.network;
  const offered = deps.settings.social as readonly unknown[];
  if (!offered.includes(network)) {
    ctx.status = 400;
    ctx.type = 'html';
    ctx.body = deps.views.page(ctx, 'login', {
      uid: interaction.uid,
      error: { key: 'social.notOffered' },
    });
    return;
  }
  await startSignIn(deps, ctx, interaction, '', network as SocialNetwork);
}
