/**
 * Anti-forgery tokens for the bridge's own forms: the double-submit cookie pattern of
 * `csrf-csrf`, adapted to Koa. A page that shows a POST form carries a token in a hidden `_csrf`
 * field and the same token in an HttpOnly cookie; a POST is accepted only when both are there,
 * are equal, and the token's HMAC (keyed with a secret derived from the cookie keys) binds it to
 * the session identifier of this request. A page of another site can neither read the token
 * nor set the cookie, and a token issued for one interaction (or account session) is refused
 * for any other.
 *
 * One `createCsrf` per page family: each names its cookie, scopes it to its own path and says
 * what a token is bound to.
 *
 *   router.use(csrf.provide)                      pages rendered below get `csrfToken`
 *   router.post('/x', bodyParser, csrf.verify, …) a forged or stale form gets a 403
 */
import { hkdfSync } from 'node:crypto';
import { doubleCsrf, type DoubleCsrfUtilities } from 'csrf-csrf';
import type { Context, Next } from 'koa';
import { CsrfTokenRejected } from './errors.ts';

/** The form field that carries the token (see the `csrf` mixin in views/mixins.pug). */
export const CSRF_FIELD = '_csrf';

/** Methods that change nothing and are never checked. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface CsrfOptions {
  /** The cookie signing keys (COOKIE_KEYS): the first signs new tokens, all are accepted. */
  keys: readonly string[];
  /** The cookie's name; one per page family. It holds the token only, never a secret. */
  cookieName: string;
  /** The cookie's path for this request: the narrowest path above every form's action. */
  path: (ctx: Context) => string;
  /** What a token is bound to: a token issued for one identifier is refused for another. */
  sessionIdentifier: (ctx: Context) => string;
  /** Mark the cookie Secure: the issuer is https. */
  secure: boolean;
  /** How long the cookie lives, in milliseconds (the family's own lifetime). */
  maxAgeMs: number;
  /** Where a person whose form was refused can start again (a link on the error page). */
  backUrl?: (ctx: Context) => string | undefined;
}

export interface Csrf {
  /** The token for a page about to be rendered; sets the cookie, or keeps the one there. */
  issue: (ctx: Context) => string;
  /**
   * Makes `csrfToken` a local of every page rendered later in this request (views.ts), issued
   * only when a page actually shows a form.
   */
  provide: (ctx: Context, next: Next) => Promise<void>;
  /** Refuses an unsafe request without the right token (403); runs after the body parser. */
  verify: (ctx: Context, next: Next) => Promise<void>;
}

type LibraryRequest = Parameters<DoubleCsrfUtilities['validateRequest']>[0];
type LibraryResponse = Parameters<DoubleCsrfUtilities['generateCsrfToken']>[1];

/** The parts of a request csrf-csrf reads, built from a Koa context. */
interface RequestView {
  method: string;
  headers: Context['headers'];
  cookies: Record<string, string>;
  ctx: Context;
}

/**
 * A key of its own for each cookie key, so an HMAC made for a token can never stand for a
 * cookie signature or the other way round.
 */
function tokenSecret(key: string): string {
  return Buffer.from(hkdfSync('sha256', key, '', 'nopass-bridge csrf token', 32)).toString(
    'base64url',
  );
}

function formField(ctx: Context): unknown {
  const body = (ctx.request as { body?: unknown }).body;
  return body !== null && typeof body === 'object'
    ? (body as Record<string, unknown>)[CSRF_FIELD]
    : undefined;
}

/** Why a request was refused, for the log line only (never a token's value). */
function refusalReason(sent: unknown, cookie: string | undefined): string {
  if (sent === undefined) return 'no token in the form';
  if (typeof sent !== 'string') return 'more than one token in the form';
  if (cookie === undefined) return 'no token cookie';
  return sent === cookie ? 'token not issued for this session' : 'token differs from the cookie';
}

export function createCsrf(options: CsrfOptions): Csrf {
  if (options.keys.length === 0) throw new Error('createCsrf needs at least one key');
  const secrets = options.keys.map(tokenSecret);
  const { cookieName } = options;

  const library = doubleCsrf({
    getSecret: () => secrets,
    getSessionIdentifier: (req) => options.sessionIdentifier((req as unknown as RequestView).ctx),
    cookieName,
    getCsrfTokenFromRequest: (req) => {
      const sent = formField((req as unknown as RequestView).ctx);
      return typeof sent === 'string' ? sent : undefined;
    },
  });

  const cookieOf = (ctx: Context): string | undefined =>
    ctx.cookies.get(cookieName, { signed: false }) || undefined;

  const requestView = (ctx: Context): LibraryRequest => {
    const cookie = cookieOf(ctx);
    const view: RequestView = {
      method: ctx.method,
      headers: ctx.headers,
      cookies: cookie === undefined ? {} : { [cookieName]: cookie },
      ctx,
    };
    return view as unknown as LibraryRequest;
  };

  // One token per response: a page with several forms sets the cookie once.
  const issued = new WeakMap<Context, string>();

  const issue = (ctx: Context): string => {
    const already = issued.get(ctx);
    if (already !== undefined) return already;
    // The browser reached the issuer over https even when a proxy spoke plain HTTP to us
    // without TRUST_PROXY; Koa would otherwise refuse to send a Secure cookie.
    if (options.secure) ctx.cookies.secure = true;
    const response = {
      cookie(name: string, value: string) {
        ctx.cookies.set(name, value, {
          signed: false,
          httpOnly: true,
          sameSite: 'lax',
          secure: options.secure,
          path: options.path(ctx),
          maxAge: options.maxAgeMs,
          overwrite: true,
        });
      },
    };
    // A valid cookie for this identifier is kept, so every page of one sign-in (and several
    // tabs of it) carries the same token.
    const token = library.generateCsrfToken(
      requestView(ctx),
      response as unknown as LibraryResponse,
    );
    issued.set(ctx, token);
    return token;
  };

  return {
    issue,
    async provide(ctx: Context, next: Next) {
      const state = ctx.state as { pageLocals?: Record<string, unknown> };
      state.pageLocals = { ...state.pageLocals, csrfToken: () => issue(ctx) };
      await next();
    },
    async verify(ctx: Context, next: Next) {
      if (SAFE_METHODS.has(ctx.method) || library.validateRequest(requestView(ctx))) {
        await next();
        return;
      }
      throw new CsrfTokenRejected({
        detail: refusalReason(formField(ctx), cookieOf(ctx)),
        backUrl: options.backUrl?.(ctx),
      });
    },
  };
}
