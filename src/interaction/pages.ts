/**
 * The interaction's pages: the user id form, the picture page (which also serves the no-script
 * path: a reload shows the newest picture, and once approved it redirects onwards), the
 * completion and the cancel.
 */
import type { Context } from 'koa';
import { BridgeError } from '../http/errors.ts';
import { bindLog, requestLog } from '../http/request-id.ts';
import { authRef } from '../log.ts';
import { interactionPath } from '../oidc/provider.ts';
import { loginStatus } from '../state/login-status.ts';
import { closeAbandoned } from './abandon.ts';
import { showConsent } from './consent.ts';
import type { InteractionDeps } from './deps.ts';
import { loadInteraction } from './interaction.ts';
import { startSignIn } from './start.ts';
import { loginView } from './state-view.ts';
import { parseUserId, type PageMessage } from './user-id.ts';

/** Shown on the user id form when the sign-in this page was following is gone. */
const LOGIN_LOST: PageMessage = { key: 'errors.login_not_found' };

function html(ctx: Context, body: string, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}

/** GET /interaction/:uid: the user id form, skipped when the client sent a usable login_hint. */
export async function showInteraction(deps: InteractionDeps, ctx: Context): Promise<void> {
  const interaction = await loadInteraction(deps.provider, ctx);

  if (interaction.prompt.name !== 'login') {
    // The consent prompt: a page for a third-party client, nothing for a first-party one.
    await showConsent(deps, ctx, interaction);
    return;
  }

  const hint = parseUserId(interaction.params.login_hint);
  if (hint.ok) {
    // Counts as much as sending the user id form: a link with login_hint must not get round
    // the rate limits.
    const backUrl = interactionPath(interaction.uid);
    await deps.rateLimits.signIn(ctx, { userId: hint.userId, backUrl });
    await startSignIn(deps, ctx, interaction, hint.userId);
    return;
  }
  html(ctx, deps.views.page(ctx, 'login', { uid: interaction.uid }));
}

/** POST /interaction/:uid/login: the user id form was sent (or "try again" was pressed). */
export async function submitUserId(deps: InteractionDeps, ctx: Context): Promise<void> {
  const interaction = await loadInteraction(deps.provider, ctx);
  const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
  const parsed = parseUserId(body.userId);
  if (!parsed.ok) {
    html(ctx, deps.views.page(ctx, 'login', { uid: interaction.uid, error: parsed.message }), 400);
    return;
  }
  await startSignIn(deps, ctx, interaction, parsed.userId);
}

/** GET /interaction/:uid/picture */
export async function showPicture(deps: InteractionDeps, ctx: Context): Promise<void> {
  const interaction = await loadInteraction(deps.provider, ctx);
  const login = await deps.store.getLoginByInteraction(interaction.uid);
  if (!login) {
    // Lost (expired, or the store forgot it) or never started: the form, saying why, rather
    // than a dead end or a picture that never changes.
    html(ctx, deps.views.page(ctx, 'login', { uid: interaction.uid, error: LOGIN_LOST }));
    return;
  }
  bindLog(ctx, { auth_ref: authRef(login.authId) });

  const view = loginView(login, deps.now());
  if (view.status === 'approved' && view.next) {
    ctx.status = 303;
    ctx.redirect(view.next);
    return;
  }
  html(
    ctx,
    deps.views.page(ctx, 'picture', {
      uid: interaction.uid,
      userId: login.userId,
      view,
      // A social network sign-in shows NoPass's link to the network instead (social.ts).
      social: login.social,
      loginUrl: login.loginUrl,
      phoneUrl: login.social === undefined ? deps.phoneUrl?.(login.userId) : undefined,
    }),
  );
}

/** GET /interaction/:uid/complete: an approved sign-in finishes the OIDC interaction, once. */
export async function completeSignIn(deps: InteractionDeps, ctx: Context): Promise<void> {
  const interaction = await loadInteraction(deps.provider, ctx);
  const login = await deps.store.getLoginByInteraction(interaction.uid);
  if (!login) {
    throw new BridgeError(
      400,
      'login_not_found',
      'This sign-in is no longer in progress. Please start again.',
    );
  }
  bindLog(ctx, { auth_ref: authRef(login.authId) });

  const consumed = await deps.store.consumeLogin(login.authId);
  if (!consumed.ok) {
    if (consumed.reason === 'not_approved') {
      // Not approved (yet): the picture page shows where it stands.
      ctx.status = 303;
      ctx.redirect(`${interactionPath(interaction.uid)}/picture`);
      return;
    }
    throw new BridgeError(
      400,
      'login_used',
      'This approval has already been used. Please start again from the application.',
    );
  }

  // The subject comes from the server-side record of whom NoPass approved, nothing else.
  const { userId } = consumed.login;
  await deps.store.recordSignIn(userId, deps.now());
  deps.metrics.signInsEnded.inc({ outcome: 'completed' });
  requestLog(ctx, deps.log).info('sign-in approved');
  await deps.provider.interactionFinished(
    ctx.req,
    ctx.res,
    { login: { accountId: userId, amr: ['nopass'] } },
    { mergeWithLastSubmission: false },
  );
  ctx.respond = false;
}

/** POST /interaction/:uid/cancel: the relying party gets access_denied with its state. */
export async function cancelSignIn(deps: InteractionDeps, ctx: Context): Promise<void> {
  const interaction = await loadInteraction(deps.provider, ctx);
  // Counted as a sign-in that ended only when NoPass had started one that was still open.
  const login = await deps.store.getLoginByInteraction(interaction.uid);
  if (login) bindLog(ctx, { auth_ref: authRef(login.authId) });
  closeAbandoned(deps, ctx, login, 'cancelled');
  if (login && loginStatus(login, deps.now()) === 'waiting') {
    deps.metrics.signInsEnded.inc({ outcome: 'cancelled' });
    // Settled as refused here, so an approval that arrives after the person cancelled is
    // answered as late and can never finish this interaction.
    await deps.store.settleLogin(login.authId, false, 'cancelled at the bridge', deps.now());
  }
  requestLog(ctx, deps.log).info('sign-in cancelled');
  await deps.provider.interactionFinished(
    ctx.req,
    ctx.res,
    { error: 'access_denied', error_description: 'The user cancelled the sign-in.' },
    { mergeWithLastSubmission: false },
  );
  ctx.respond = false;
}
