/**
 * The social network sign-in page: where the `loginUrl` of a social RequestAuthorization leads.
 * A person plays the social network here (nothing is sent to Google or Facebook), says which
 * NoPass user the account belongs to, and approves or refuses; the portal then receives
 * AuthorizedUser, naming the user on approval.
 *
 *   GET  /social/:authId           the page
 *   POST /social/:authId/approve   {userId}: a user the portal knows
 *   POST /social/:authId/refuse    {reason?}
 */
import { fileURLToPath } from 'node:url';
import { bodyParser } from '@koa/bodyparser';
import { Router } from '@koa/router';
import type { Context } from 'koa';
import { compileFile } from 'pug';
import { decide, DEFAULT_REFUSAL, findAuth } from './auth-sessions.ts';
import { bodyObject, optionalText, Problem } from './http.ts';
import { pageHeaders } from './phone.ts';
import type { AuthSession, SimulatorCore } from './state.ts';

const VIEWS = fileURLToPath(new URL('../../views/simulator/', import.meta.url));
const socialPage = compileFile(`${VIEWS}social.pug`);

const NETWORK_NAMES = { google: 'Google', facebook: 'Facebook' } as const;

const NOTICES: Record<string, string> = {
  approved: 'Approved. Go back to the website: it signs you in by itself.',
  refused: 'Refused. The website has been told.',
};

/** Routes of the social sign-in page. */
export function socialRouter(sim: SimulatorCore): Router {
  const router = new Router({ prefix: '/social' });
  router.use(pageHeaders);
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });

  router.get('/:authId', (ctx) => {
    const auth = socialAuth(sim, ctx.params.authId);
    const done = typeof ctx.query.done === 'string' ? NOTICES[ctx.query.done] : undefined;
    render(sim, ctx, auth, { notice: done });
  });

  router.post('/:authId/approve', form, async (ctx) => {
    const auth = socialAuth(sim, ctx.params.authId);
    if (auth.status !== 'waiting') {
      render(sim, ctx, auth, {});
      return;
    }
    const userId = optionalText(bodyObject(ctx.request.body), 'userId', { max: 36 })?.trim();
    const portal = sim.portals.get(auth.portalId);
    if (!userId || !portal?.users.has(userId)) {
      ctx.status = 400;
      render(sim, ctx, auth, {
        error: 'Enter the user id of a NoPass user this site knows (in the quickstart: demo).',
        userId,
      });
      return;
    }
    await decide(sim, auth, true, '', userId);
    ctx.status = 303;
    ctx.redirect(`/social/${encodeURIComponent(auth.authId)}?done=approved`);
  });

  router.post('/:authId/refuse', form, async (ctx) => {
    const auth = socialAuth(sim, ctx.params.authId);
    if (auth.status === 'waiting') {
      const reason = optionalText(bodyObject(ctx.request.body), 'reason', {
        max: 2084,
        allowEmpty: true,
      })?.trim();
      await decide(sim, auth, false, reason || DEFAULT_REFUSAL);
    }
    ctx.status = 303;
    ctx.redirect(`/social/${encodeURIComponent(auth.authId)}?done=refused`);
  });

  return router;
}

function socialAuth(sim: SimulatorCore, authId: string | undefined): AuthSession {
  const auth = findAuth(sim, authId);
  if (auth.social === undefined) {
    throw new Problem(404, 'This authentication is not a social network sign-in.');
  }
  return auth;
}

function render(
  sim: SimulatorCore,
  ctx: Context,
  auth: AuthSession,
  locals: { notice?: string; error?: string; userId?: string },
): void {
  ctx.type = 'html';
  ctx.body = socialPage({
    title: `Sign in with ${NETWORK_NAMES[auth.social ?? 'google']}`,
    network: NETWORK_NAMES[auth.social ?? 'google'],
    portalName: sim.portals.get(auth.portalId)?.name ?? 'Unknown site',
    action: `/social/${encodeURIComponent(auth.authId)}`,
    waiting: auth.status === 'waiting',
    status: auth.status,
    ...locals,
  });
}
