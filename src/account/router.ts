/**
 * The self-service account page. A person signs in to it through NoPass like to any
 * application (the bridge's own client, account/client.ts), sees the profile the bridge keeps
 * and the applications they allowed, withdraws one, signs out, or removes their NoPass sign-in:
 *
 *   GET  /account                     the profile and the applications allowed, or a code flow
 *                                     with PKCE when not signed in
 *   GET  /account/callback            back from the sign-in: the code is exchanged, the page
 *                                     signed in
 *   POST /account/consents/withdraw   forgets the consent given `client_id` and revokes that
 *                                     client's grants (consents.ts), back to /account
 *   GET  /account/delete              "Remove NoPass sign-in?"
 *   POST /account/delete              DeleteInitialPortal, then the user's deletion (removal.ts)
 *   POST /account/logout              RP-initiated logout at the end-session endpoint, then to
 *   GET  /account/signed-out          a page saying the person left the account page (whether
 *                                     they signed out of the bridge there or stayed signed in)
 *
 * The page's sign-in lives in its own cookie (session.ts) for a quarter of an hour. Every form
 * carries an anti-forgery token (http/csrf.ts) bound to that sign-in, in a cookie of its own
 * scoped to /account.
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import * as oidc from 'openid-client';
import { createCsrf } from '../http/csrf.ts';
import { BridgeError } from '../http/errors.ts';
import { formBody } from '../http/form-body.ts';
import { requestLog } from '../http/request-id.ts';
import type { Views } from '../http/views.ts';
import { authRef, type Logger } from '../log.ts';
import type { NoPassClient } from '../nopass/types.ts';
import type { Store, UserRecord } from '../state/types.ts';
import type { UserDeletion } from '../users/deletion.ts';
import { accountRedirectUri, accountRelyingParty, accountSignedOutUri } from './client.ts';
import { allowedApplications, withdrawApplication } from './consents.ts';
import { removeNoPassSignIn } from './removal.ts';
import { ACCOUNT_PATH, ACCOUNT_SESSION_MS, accountCookies, STATE_PATTERN } from './session.ts';

export interface AccountDeps {
  issuer: string;
  store: Store;
  nopass: NoPassClient;
  deletion: UserDeletion;
  /** The provider, for the clients a person allowed: their names, and which are first-party. */
  provider: Provider;
  views: Views;
  log: Logger;
  now: () => number;
  /** The cookie signing keys (COOKIE_KEYS), which the anti-forgery tokens derive theirs from. */
  cookieKeys: readonly string[];
}

/** An OAuth error code as the callback may show it; anything else is shown as a generic one. */
const ERROR_CODE = /^[a-z_]{1,64}$/;

/** The longest client id a withdrawal may name; the clients file has none longer. */
const MAX_CLIENT_ID_LENGTH = 256;

/** The bridge cannot reach its own issuer URL (discovery, or the token endpoint). */
function accountUnavailable(cause: unknown): BridgeError {
  return new BridgeError(
    503,
    'account_unavailable',
    'The account page is not available right now. Please try again in a moment.',
    { cause, detail: 'the account page could not reach the issuer' },
  );
}

/** What the profile page shows of a user. */
function profileLocals(user: UserRecord): Record<string, unknown> {
  const { profile } = user;
  const name = [profile.givenName, profile.surName].filter(Boolean).join(' ');
  return {
    userId: user.userId,
    name: name || undefined,
    email: profile.email,
    phoneNumber: profile.phoneNumber,
    registeredAt: user.registeredAt,
    knownSince: user.registeredAt === undefined ? user.createdAt : undefined,
    lastSignInAt: user.lastSignInAt,
  };
}

export function createAccountRouter(deps: AccountDeps): Router {
  const { issuer, views } = deps;
  const router = new Router({ prefix: ACCOUNT_PATH });
  const form = formBody();
  const secure = issuer.startsWith('https:');
  const cookies = accountCookies({ secure, now: deps.now });
  const csrf = createCsrf({
    keys: deps.cookieKeys,
    cookieName: 'account_csrf',
    path: () => ACCOUNT_PATH,
    // A token is good for one sign-in of the account page only.
    sessionIdentifier: (ctx) => {
      const session = cookies.session(ctx);
      return session ? `${session.sub} ${session.expiresAt}` : '';
    },
    secure,
    maxAgeMs: ACCOUNT_SESSION_MS,
    backUrl: () => ACCOUNT_PATH,
  });
  const relyingParty = accountRelyingParty(issuer);
  const redirectUri = accountRedirectUri(issuer);

  const configuration = (): Promise<oidc.Configuration> =>
    relyingParty().catch((error: unknown) => {
      throw accountUnavailable(error);
    });

  const show = (ctx: Context, name: string, locals: Record<string, unknown>, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = views.page(ctx, name, locals);
  };

  /** The error page, with the way forward being the account page itself. */
  const problem = (
    ctx: Context,
    status: number,
    code: string,
    keys: { title: string; message: string; whatToDo?: string },
  ) =>
    show(
      ctx,
      'error',
      {
        titleKey: keys.title,
        messageKey: keys.message,
        whatToDoKey: keys.whatToDo ?? 'account.whatToDo',
        code,
        backUrl: ACCOUNT_PATH,
        backLabel: 'account.backToAccount',
      },
      status,
    );

  /** The page that says the NoPass sign-in is gone; the account cookie goes with it. */
  const removed = (ctx: Context, userId: string) => {
    cookies.endSession(ctx);
    show(ctx, 'account-removed', { userId });
  };

  /** Starts a code flow with PKCE for the account client. */
  const signIn = async (ctx: Context) => {
    const config = await configuration();
    const flow = {
      verifier: oidc.randomPKCECodeVerifier(),
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid',
      // Removing a sign-in is for the person holding the phone, not whoever finds a browser
      // still signed in: every visit to the account page takes a fresh NoPass approval.
      prompt: 'login',
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    cookies.saveFlow(ctx, flow);
    ctx.redirect(url.href);
  };

  router.use(async (ctx: Context, next: Next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  router.use(csrf.provide);

  router.get('/', async (ctx) => {
    const session = cookies.session(ctx);
    if (!session) {
      await signIn(ctx);
      return;
    }
    const user = await deps.store.getUser(session.sub);
    if (!user) {
      removed(ctx, session.sub);
      return;
    }
    const applications = await allowedApplications(deps, user.userId);
    show(ctx, 'account', { ...profileLocals(user), applications });
  });

  router.get('/callback', async (ctx) => {
    const current = new URL(ctx.originalUrl, issuer);
    const state = current.searchParams.get('state') ?? '';
    const flow = STATE_PATTERN.test(state) ? cookies.takeFlow(ctx, state) : undefined;
    if (!flow) {
      problem(ctx, 400, 'account_flow_missing', {
        title: 'account.signInFailedTitle',
        message: 'account.notStarted',
      });
      return;
    }
    const refused = current.searchParams.get('error');
    if (refused !== null) {
      problem(ctx, 400, ERROR_CODE.test(refused) ? refused : 'invalid_response', {
        title: 'account.signInFailedTitle',
        message: 'account.signInFailed',
      });
      return;
    }

    const config = await configuration();
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
      });
    } catch (error) {
      const code = (error as { error?: unknown }).error;
      requestLog(ctx, deps.log).warn(
        { err: error, error_code: code },
        'account page sign-in not completed',
      );
      problem(
        ctx,
        400,
        typeof code === 'string' && ERROR_CODE.test(code) ? code : 'invalid_response',
        {
          title: 'account.signInFailedTitle',
          message: 'account.signInFailed',
        },
      );
      return;
    }
    const sub = tokens.claims()?.sub;
    if (!sub || !tokens.id_token) {
      problem(ctx, 400, 'invalid_response', {
        title: 'account.signInFailedTitle',
        message: 'account.signInFailed',
      });
      return;
    }
    cookies.startSession(ctx, sub, tokens.id_token);
    requestLog(ctx, deps.log).info({ user_ref: authRef(sub) }, 'account page signed in');
    ctx.status = 303;
    ctx.redirect(ACCOUNT_PATH);
  });

  router.get('/delete', async (ctx) => {
    const session = cookies.session(ctx);
    if (!session) {
      ctx.status = 303;
      ctx.redirect(ACCOUNT_PATH);
      return;
    }
    if (!(await deps.store.getUser(session.sub))) {
      removed(ctx, session.sub);
      return;
    }
    show(ctx, 'account-delete', { userId: session.sub });
  });

  /** The account page's sign-in for a form; without one, the page that says it ended. */
  const signedIn = (ctx: Context) => {
    const session = cookies.session(ctx);
    if (!session) {
      problem(ctx, 403, 'account_session_ended', {
        title: 'account.sessionEndedTitle',
        message: 'account.sessionEnded',
      });
    }
    return session;
  };

  router.post('/delete', form, csrf.verify, async (ctx) => {
    const session = signedIn(ctx);
    if (!session) return;
    const log = requestLog(ctx, deps.log);
    const result = await removeNoPassSignIn(deps, session.sub, log);
    if (!result.removed) {
      const { error } = result;
      problem(ctx, error.status >= 500 ? error.status : 502, error.code, {
        title: 'account.removeFailedTitle',
        message: 'account.removeFailed',
        whatToDo: 'account.removeFailedWhatToDo',
      });
      return;
    }
    removed(ctx, session.sub);
  });

  router.post('/consents/withdraw', form, csrf.verify, async (ctx) => {
    const session = signedIn(ctx);
    if (!session) return;
    const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    const clientId = body.client_id;
    const refused = {
      title: 'account.withdrawFailedTitle',
      message: 'account.withdrawUnknown',
      whatToDo: 'account.withdrawWhatToDo',
    };
    if (typeof clientId !== 'string' || clientId === '' || clientId.length > MAX_CLIENT_ID_LENGTH) {
      problem(ctx, 400, 'invalid_request', refused);
      return;
    }
    const log = requestLog(ctx, deps.log);
    const withdrawal = await withdrawApplication(deps, session.sub, clientId);
    if (!withdrawal.withdrawn) {
      log.info({ user_ref: authRef(session.sub) }, 'consent to withdraw not found');
      problem(ctx, 400, 'consent_not_found', refused);
      return;
    }
    log.info(
      { user_ref: authRef(session.sub), client_id: clientId, grants: withdrawal.grants },
      'consent withdrawn',
    );
    ctx.status = 303;
    ctx.redirect(ACCOUNT_PATH);
  });

  router.post('/logout', form, csrf.verify, async (ctx) => {
    const session = cookies.session(ctx);
    cookies.endSession(ctx);
    const config = await configuration();
    const logout = oidc.buildEndSessionUrl(config, {
      ...(session ? { id_token_hint: session.idToken } : {}),
      post_logout_redirect_uri: accountSignedOutUri(issuer),
    });
    ctx.status = 303;
    ctx.redirect(logout.href);
  });

  // Back from the provider's sign-out, whether the person signed out there or stayed: the
  // account page's own sign-in ended when they asked, and the next visit asks for a new one.
  router.get('/signed-out', (ctx) => {
    show(ctx, 'account-signed-out', {});
  });

  // A reload after a form was sent lands on the account page instead of a bare "not found".
  for (const target of ['/logout', '/consents/withdraw']) {
    router.get(target, (ctx) => {
      ctx.status = 303;
      ctx.redirect(ACCOUNT_PATH);
    });
  }

  return router;
}
