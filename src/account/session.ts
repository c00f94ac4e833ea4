/**
 * The account page's own cookies. All are scoped to /account, signed with the bridge's cookie
 * keys, HttpOnly and SameSite=Lax, and Secure when the issuer is https:
 *
 * - one flow cookie per sign-in started there, named after its `state` so two tabs never
 *   overwrite each other, holding the PKCE verifier and the nonce until the callback;
 * - the account session: the subject that signed in, until when, and the ID token, which
 *   signing out hands the end-session endpoint as `id_token_hint`.
 *
 * Each expiry is kept inside the signed value as well, so a browser that holds on to a cookie
 * past its max-age gains nothing.
 */
import type { Context } from 'koa';

export const ACCOUNT_PATH = '/account';

/** How long the account page stays signed in; after that it asks for a sign-in again. */
export const ACCOUNT_SESSION_MS = 15 * 60 * 1000;

/** How long a sign-in started from the account page may take to come back. */
export const ACCOUNT_FLOW_MS = 15 * 60 * 1000;

const SESSION_COOKIE = 'account_session';
const flowCookie = (state: string): string => `account_flow_${state}`;

/** What a `state` looks like when the account page made it (openid-client's random state). */
export const STATE_PATTERN = /^[\w-]{1,128}$/;

export interface AccountFlow {
  state: string;
  nonce: string;
  verifier: string;
}

export interface AccountSession {
  /** The user id: the ID token's subject. */
  sub: string;
  idToken: string;
  /** Epoch ms after which the session is no longer honoured. */
  expiresAt: number;
}

export interface AccountCookies {
  saveFlow(ctx: Context, flow: AccountFlow): void;
  /** The flow of `state`, once: its cookie is removed on the way. */
  takeFlow(ctx: Context, state: string): AccountFlow | undefined;
  startSession(ctx: Context, sub: string, idToken: string): void;
  /** The signed-in session, or undefined when there is none, it expired, or it was altered. */
  session(ctx: Context): AccountSession | undefined;
  endSession(ctx: Context): void;
}

export interface AccountCookieOptions {
  /** Whether the issuer is https, so the browser only ever sends the cookies over TLS. */
  secure: boolean;
  now: () => number;
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decode(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString());
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

export function accountCookies(options: AccountCookieOptions): AccountCookies {
  const { now } = options;

  const set = (ctx: Context, name: string, value: string | null, maxAge?: number): void => {
    // With an https issuer the browser speaks TLS even when it ends in front of the bridge and
    // TRUST_PROXY is off; Koa would otherwise refuse to set a Secure cookie on that request.
    if (options.secure) ctx.cookies.secure = true;
    ctx.cookies.set(name, value, {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: options.secure,
      path: ACCOUNT_PATH,
      ...(value === null ? {} : { maxAge }),
    });
  };

  return {
    saveFlow(ctx, flow) {
      const value = encode({ ...flow, expiresAt: now() + ACCOUNT_FLOW_MS });
      set(ctx, flowCookie(flow.state), value, ACCOUNT_FLOW_MS);
    },

    takeFlow(ctx, state) {
      if (!STATE_PATTERN.test(state)) return undefined;
      const saved = decode(ctx.cookies.get(flowCookie(state), { signed: true }));
      if (!saved) return undefined;
      set(ctx, flowCookie(state), null);
      const { nonce, verifier, expiresAt } = saved;
      if (saved.state !== state || !isText(nonce) || !isText(verifier)) return undefined;
      if (typeof expiresAt !== 'number' || expiresAt <= now()) return undefined;
      return { state, nonce, verifier };
    },

    startSession(ctx, sub, idToken) {
      const session: AccountSession = { sub, idToken, expiresAt: now() + ACCOUNT_SESSION_MS };
      set(ctx, SESSION_COOKIE, encode(session), ACCOUNT_SESSION_MS);
    },

    session(ctx) {
      const saved = decode(ctx.cookies.get(SESSION_COOKIE, { signed: true }));
      if (!saved) return undefined;
      const { sub, idToken, expiresAt } = saved;
      if (!isText(sub) || !isText(idToken) || typeof expiresAt !== 'number') return undefined;
      if (expiresAt <= now()) return undefined;
      return { sub, idToken, expiresAt };
    },

    endSession(ctx) {
      set(ctx, SESSION_COOKIE, null);
    },
  };
}
