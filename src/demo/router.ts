/**
 * The quickstart's landing page and demo relying party. In quickstart mode the bridge registers
 * one extra client for itself and plays an ordinary OpenID Connect application with
 * openid-client: "try it" starts a code flow with PKCE against the bridge's own issuer URL, and
 * the callback shows the ID token's claims. Nothing here takes part in the bridge's own flow.
 */
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { ClientMetadata } from 'oidc-provider';
import * as oidc from 'openid-client';
import type { Views } from '../http/views.ts';

export const DEMO_CLIENT_ID = 'quickstart-demo';
const flowCookie = (state: string): string => `demo_flow_${state}`;

export interface DemoClient {
  metadata: ClientMetadata;
  secret: string;
}

export function demoClient(issuer: string): DemoClient {
  const secret = randomBytes(24).toString('base64url');
  return {
    secret,
    metadata: {
      client_id: DEMO_CLIENT_ID,
      client_secret: secret,
      client_name: 'Quickstart demo application',
      redirect_uris: [`${issuer}/demo/callback`],
      post_logout_redirect_uris: [`${issuer}/`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      // The bridge's own demonstration: it skips the consent page.
      first_party: true,
    },
  };
}

interface Flow {
  verifier: string;
  state: string;
  nonce: string;
}

export function createDemoRouter(issuer: string, client: DemoClient, views: Views): Router {
  const router = new Router();
  let config: Promise<oidc.Configuration> | undefined;
  // Discovery runs against the bridge itself, so it can only happen once the bridge listens.
  const configuration = (): Promise<oidc.Configuration> => {
    config ??= oidc
      .discovery(new URL(issuer), DEMO_CLIENT_ID, client.secret, undefined, {
        execute: issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
      })
      .catch((error: unknown) => {
        config = undefined;
        throw error;
      });
    return config;
  };
  const redirectUri = `${issuer}/demo/callback`;

  router.get('/', (ctx) => {
    ctx.type = 'html';
    ctx.body = views.page(ctx, 'landing', { demo: true });
  });

  router.get('/demo/start', async (ctx) => {
    const flow: Flow = {
      verifier: oidc.randomPKCECodeVerifier(),
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
    };
    const url = oidc.buildAuthorizationUrl(await configuration(), {
      redirect_uri: redirectUri,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    const value = Buffer.from(JSON.stringify(flow)).toString('base64url');
    // One cookie per flow, named after its state, so two tabs never overwrite each other.
    ctx.cookies.set(flowCookie(flow.state), value, {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      path: '/demo',
      maxAge: 15 * 60 * 1000,
    });
    ctx.redirect(url.href);
  });

  router.get('/demo/callback', async (ctx) => {
    const current = new URL(ctx.originalUrl, issuer);
    const state = current.searchParams.get('state') ?? '';
    const saved = /^[\w-]{1,128}$/.test(state)
      ? ctx.cookies.get(flowCookie(state), { signed: true })
      : undefined;
    ctx.type = 'html';
    if (!saved) {
      ctx.status = 400;
      ctx.body = views.page(ctx, 'error', {
        titleKey: 'demo.notStartedTitle',
        message: 'Start again from the quickstart page.',
        messageKey: 'demo.notStarted',
        code: 'demo_flow_missing',
        backUrl: '/',
      });
      return;
    }
    const flow = JSON.parse(Buffer.from(saved, 'base64url').toString()) as Flow;
    ctx.cookies.set(flowCookie(state), null, { path: '/demo' });
    if (current.searchParams.has('error')) {
      ctx.status = 400;
      ctx.body = views.page(ctx, 'demo-result', {
        error: current.searchParams.get('error'),
        errorDescription: current.searchParams.get('error_description'),
      });
      return;
    }
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(await configuration(), current, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
      });
    } catch (error) {
      // What a relying party does with a response it cannot accept: refuse it, and say so.
      ctx.status = 400;
      ctx.body = views.page(ctx, 'demo-result', {
        error: (error as { error?: string }).error ?? 'invalid_response',
        errorDescription: (error as Error).message,
      });
      return;
    }
    const claims = tokens.claims();
    const logout = oidc.buildEndSessionUrl(await configuration(), {
      id_token_hint: tokens.id_token ?? '',
      post_logout_redirect_uri: `${issuer}/`,
    });
    ctx.body = views.page(ctx, 'demo-result', {
      claims: JSON.stringify(claims, null, 2),
      subject: claims?.sub,
      logoutUrl: logout.href,
    });
  });

  return router;
}
