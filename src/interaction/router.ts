/**
 * The interaction flow's routes. A sign-in goes:
 *
 *   /interaction/:uid            user id form (skipped with a login_hint)
 *   POST …/login                 RequestAuthorization, then to the picture page
 *   …/picture                    the picture, a countdown, and the live stream below
 *   …/events                     Server-Sent Events: new pictures and the verdict
 *   …/complete                   an approved sign-in finishes the OIDC interaction
 *   POST …/cancel                access_denied back to the relying party
 *
 * Everything sits under /interaction/:uid because the interaction cookie is scoped there.
 */
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionDeps } from './deps.ts';
import {
  cancelSignIn,
  completeSignIn,
  showInteraction,
  showPicture,
  submitUserId,
} from './pages.ts';
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
  return router;
}
