/**
 * The interaction flow's routes. A sign-in goes:
 *
 *   /interaction/:uid            user id form (skipped with a login_hint)
 *   POST …/login                 RequestAuthorization, then to the picture page
 *   …/picture                    the picture, a countdown, and the live stream below
 *   …/events                     Server-Sent Events: new pictures and the verdict
 *   …/complete                   an approved sign-in finishes the OIDC interaction
 *   POST …/cancel                access_denied back to the relying party
 *   …/register                   registration with NoPass (registration.ts), and
 *   …/register/:id               the way back from it
 *   POST …/social                RequestAuthorization through a social network (social.ts)
 *   POST …/consent               Allow or Deny on the consent page (consent.ts), which the
 *                                first address shows when the prompt is consent
 *
 * Everything sits under /interaction/:uid because the interaction cookie is scoped there.
 * Every POST form carries an anti-forgery token bound to the interaction, in a cookie scoped
 * there too (http/csrf.ts); a form without it is refused before its handler runs.
 * Whatever asks NoPass to start something (the user id, social and registration forms, and a
 * login_hint) counts against the rate limits first (http/rate-limits.ts).
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { createCsrf } from '../http/csrf.ts';
import { formBody } from '../http/form-body.ts';
import { INTERACTION_TTL_S, interactionPath } from '../oidc/provider.ts';
import { submitConsent } from './consent.ts';
import type { InteractionDeps } from './deps.ts';
import {
  cancelSignIn,
  completeSignIn,
  showInteraction,
  showPicture,
  submitUserId,
} from './pages.ts';
import {
  registrationState,
  returnFromRegistration,
  showRegistration,
  submitRegistration,
} from './registration.ts';
import { submitSocial } from './social.ts';
import { streamEvents } from './stream.ts';

/** The interaction's path as the browser sends it, which its cookies are scoped to. */
function pathOf(ctx: Context): string {
  return interactionPath(encodeURIComponent(String((ctx.params as { uid?: string }).uid ?? '')));
}

export function createInteractionRouter(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  // A form's token is bound to its interaction and lives as long as an interaction can.
  const csrf = createCsrf({
    keys: deps.cookieKeys,
    cookieName: 'nopass.csrf',
    path: pathOf,
    sessionIdentifier: (ctx) => String((ctx.params as { uid?: string }).uid ?? ''),
    secure: deps.settings.issuer.startsWith('https:'),
    maxAgeMs: INTERACTION_TTL_S * 1000,
    backUrl: pathOf,
  });
  const parse = formBody();
  // Every form is parsed, then must carry its page's anti-forgery token (http/csrf.ts).
  const form = async (ctx: Context, next: Next): Promise<void> => {
    await parse(ctx, () => csrf.verify(ctx, next));
  };
  // Counted once the form is known to be this site's own, before anything is asked of NoPass.
  const limited = async (ctx: Context, next: Next) => {
    const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    const userId = typeof body.userId === 'string' ? body.userId : undefined;
    await deps.rateLimits.signIn(ctx, { userId, backUrl: pathOf(ctx) });
    await next();
  };
  const noStore = async (ctx: Context, next: () => Promise<unknown>) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
  const route =
    (handler: (deps: InteractionDeps, ctx: Context) => Promise<void>) => (ctx: Context) =>
      handler(deps, ctx);

  router.use(noStore);
  router.use(csrf.provide);
  router.get('/', route(showInteraction));
  router.post('/login', form, limited, route(submitUserId));
  router.get('/picture', route(showPicture));
  router.get('/events', route(streamEvents));
  router.get('/complete', route(completeSignIn));
  router.post('/cancel', form, route(cancelSignIn));
  router.post('/social', form, limited, route(submitSocial));
  router.post('/consent', form, route(submitConsent));
  // A reload after a form was sent (the address bar then shows the form's target) lands back
  // on the sign-in's start instead of a bare "not found".
  for (const target of ['/login', '/cancel', '/social', '/consent']) {
    router.get(target, (ctx) => {
      ctx.status = 303;
      ctx.redirect(`/interaction/${encodeURIComponent(String(ctx.params.uid))}`);
    });
  }
  router.get('/register', route(showRegistration));
  router.post('/register', form, limited, route(submitRegistration));
  router.get('/register/:id', route(returnFromRegistration));
  router.get('/register/:id/state', route(registrationState));
  return router;
}
