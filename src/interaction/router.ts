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
 */
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
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

export function createInteractionRouter(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  const noStore = async (ctx: Context, next: () => Promise<unknown>) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
  const route =
    (handler: (deps: InteractionDeps, ctx: Context) => Promise<void>) => (ctx: Context) =>
      handler(deps, ctx);

  router.use(noStore);
  router.get('/', route(showInteraction));
  router.post('/login', form, route(submitUserId));
  router.get('/picture', route(showPicture));
  router.get('/events', route(streamEvents));
  router.get('/complete', route(completeSignIn));
  router.post('/cancel', form, route(cancelSignIn));
  router.post('/social', form, route(submitSocial));
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
  router.post('/register', form, route(submitRegistration));
  router.get('/register/:id', route(returnFromRegistration));
  router.get('/register/:id/state', route(registrationState));
  return router;
}
