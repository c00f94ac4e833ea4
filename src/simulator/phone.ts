/**
 * The pages a person uses: `/phone` plays the NoPass app (type a user id, see the sign-ins
 * waiting for it with their current picture, approve or refuse), and `/register/<otp>` is where
 * a registration link leads: it shows the details the site sent, lets the person change them
 * as they would in the app, and finishes the registration (user-accounts.ts), after which the
 * browser goes back to the site. Plain HTML forms, no script, so it works on any phone.
 */
import { fileURLToPath } from 'node:url';
import { bodyParser } from '@koa/bodyparser';
import { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { compileFile } from 'pug';
import { decide, DEFAULT_REFUSAL, findAuth } from './auth-sessions.ts';
import { baseUrl, bodyObject, optionalText, Problem } from './http.ts';
import type { SimulatorCore } from './state.ts';
import { completeRegistration } from './user-accounts.ts';

const VIEWS = fileURLToPath(new URL('../../views/simulator/', import.meta.url));
const phonePage = compileFile(`${VIEWS}phone.pug`);
const registerPage = compileFile(`${VIEWS}register.pug`);

/** Refresh interval of the phone page while nothing is waiting, in seconds. */
const IDLE_REFRESH_S = 3;

const NOTICES: Record<string, string> = {
  approved: 'Approved. The website should now sign you in.',
  refused: 'Refused. The website has been told.',
  gone: 'That sign-in is no longer waiting: it was decided, expired or closed.',
};

/** Routes of the phone page and the registration page. */
export function phoneRouter(sim: SimulatorCore): Router {
  const router = new Router();
  router.use(pageHeaders);

  router.get('/', (ctx) => {
    ctx.redirect('/phone');
  });

  router.get('/phone', (ctx) => {
    const userId = singleQuery(ctx, 'userId')?.trim() || undefined;
    const done = singleQuery(ctx, 'done');
    const now = sim.now();
    const auths = [...sim.auths.values()]
      .filter((auth) => auth.userId === userId && auth.status === 'waiting')
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((auth) => ({
        authId: auth.authId,
        image: auth.image,
        pictureSeq: auth.pictureSeq,
        portalName: sim.portals.get(auth.portalId)?.name ?? 'Unknown site',
        secondsLeft: Math.max(0, Math.ceil((auth.pictureAt + auth.nextChange - now) / 1000)),
      }));
    ctx.type = 'html';
    ctx.body = phonePage({
      title: 'Phone',
      userId,
      auths,
      notice: done === undefined ? undefined : NOTICES[done],
      phoneUrl: `${baseUrl(sim.config.publicUrl, ctx)}/phone`,
      refreshSeconds: userId === undefined ? undefined : refreshAfter(auths),
    });
  });

  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });

  router.post('/phone/auths/:authId/approve', form, async (ctx) => {
    await verdictFromPhone(sim, ctx, ctx.params.authId, true, '');
  });

  router.post('/phone/auths/:authId/refuse', form, async (ctx) => {
    const reason = optionalText(bodyObject(ctx.request.body), 'reason', {
      max: 2084,
      allowEmpty: true,
    })?.trim();
    await verdictFromPhone(sim, ctx, ctx.params.authId, false, reason || DEFAULT_REFUSAL);
  });

  router.get('/register/:otp', (ctx) => {
    const registration = sim.registrations.get(ctx.params.otp ?? '');
    if (!registration) ctx.status = 404;
    else allowFormRedirects(ctx);
    ctx.type = 'html';
    ctx.body = registerPage({
      title: 'Register',
      registration,
      portalName: registration && sim.portals.get(registration.portalId)?.name,
    });
  });

  router.post('/register/:otp', form, async (ctx) => {
    const registration = sim.registrations.get(ctx.params.otp ?? '');
    if (!registration || registration.status !== 'started') {
      ctx.status = registration ? 409 : 404;
      ctx.type = 'html';
      ctx.body = registerPage({ title: 'Register', registration, done: registration?.status });
      return;
    }
    const body = bodyObject(ctx.request.body);
    const details: Record<string, string> = {};
    for (const field of ['givenName', 'surName', 'phoneNumber', 'email'] as const) {
      details[field] = optionalText(body, field, { max: 2084, allowEmpty: true }) ?? '';
    }
    const outcome = await completeRegistration(sim, registration, { details });
    if (outcome.status === 'confirmed') {
      ctx.status = 303;
      ctx.redirect(registration.redirectUrl);
      return;
    }
    allowFormRedirects(ctx);
    ctx.type = 'html';
    ctx.body = registerPage({
      title: 'Register',
      registration,
      portalName: sim.portals.get(registration.portalId)?.name,
      done: outcome.status,
    });
  });

  return router;
}

/**
 * While sign-ins wait, the page reloads when the soonest picture changes rather than every few
 * seconds: a reload would wipe a refusal reason being typed, and the picture is all that changes.
 */
function refreshAfter(auths: { secondsLeft: number }[]): number {
  if (auths.length === 0) return IDLE_REFRESH_S;
  const soonest = Math.min(...auths.map((auth) => auth.secondsLeft));
  return Math.min(30, Math.max(2, soonest + 1));
}

async function verdictFromPhone(
  sim: SimulatorCore,
  ctx: Context,
  authId: string | undefined,
  isAuthorized: boolean,
  reason: string,
): Promise<void> {
  const auth = findAuth(sim, authId);
  // A button pressed on a page that went stale is not an error for the person holding it.
  let done = 'gone';
  if (auth.status === 'waiting') {
    await decide(sim, auth, isAuthorized, reason);
    done = isAuthorized ? 'approved' : 'refused';
  }
  const query = new URLSearchParams({ userId: auth.userId, done });
  ctx.status = 303;
  ctx.redirect(`/phone?${query.toString()}`);
}

function singleQuery(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw new Problem(400, `Give ${name} at most once.`);
  return value;
}

/**
 * Lets a page's form lead to other sites: a finished registration redirects the submission to
 * the portal, which may redirect it on (to the relying party that started the sign-in), and
 * browsers apply `form-action` to every step of that chain.
 */
function allowFormRedirects(ctx: Context): void {
  (ctx.state as { formRedirects?: boolean }).formRedirects = true;
}

/** Headers of every page: nothing but inline styles and data: pictures may load. */
export const pageHeaders: Middleware = async (ctx, next) => {
  await next();
  const redirects = (ctx.state as { formRedirects?: boolean }).formRedirects;
  ctx.set(
    'Content-Security-Policy',
    redirects
      ? PAGE_CSP.replace("form-action 'self'", "form-action 'self' http: https:")
      : PAGE_CSP,
  );
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-store');
};

const PAGE_CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  'img-src data:',
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');
