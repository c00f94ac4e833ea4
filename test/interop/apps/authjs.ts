/**
 * A relying party built with Express and Auth.js (@auth/express), run as its own process by the
 * interop test. Auth.js reads the client from its own environment variables (AUTH_SECRET,
 * AUTH_TRUST_HOST, AUTH_NOPASS_ID, AUTH_NOPASS_SECRET, AUTH_NOPASS_ISSUER for the provider with
 * id "nopass"); HOST and PORT say where it listens.
 *
 *   /profile      the session the application sees (Auth.js's sign-in page first)
 *   /auth/...     Auth.js's own routes: sign-in and sign-out pages, the callback
 *   /logout       Auth.js's sign-out, continuing to sign-out at the bridge
 *   /signed-out   where the bridge sends the browser back after signing out
 */
import { getToken } from '@auth/core/jwt';
import { ExpressAuth, getSession, type ExpressAuthConfig } from '@auth/express';
import express from 'express';

const issuer = process.env.AUTH_NOPASS_ISSUER ?? '';
const secret = process.env.AUTH_SECRET ?? '';
// Auth.js signs out locally only; the bridge's end-session endpoint comes from discovery.
const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
const { end_session_endpoint: endSession } = (await discovery.json()) as {
  end_session_endpoint: string;
};

const config: ExpressAuthConfig = {
  providers: [
    {
      id: 'nopass',
      name: 'NoPass',
      type: 'oidc',
      // Auth.js asks for "email" unless told otherwise; the bridge offers openid and profile.
      authorization: { params: { scope: 'openid profile' } },
      checks: ['pkce', 'state', 'nonce'],
    },
  ],
  callbacks: {
    jwt({ token, account, profile }) {
      // Only at sign-in: keep the ID token for the sign-out at the bridge, and the claims.
      // Auth.js's own token.sub is a random id of its own, not the NoPass user id.
      if (account?.id_token) token.idToken = account.id_token;
      if (typeof profile?.sub === 'string') token.nopassSub = profile.sub;
      if (typeof profile?.preferred_username === 'string') {
        token.preferredUsername = profile.preferred_username;
      }
      return token;
    },
    session({ session, token }) {
      const { nopassSub, preferredUsername } = token;
      return { ...session, user: { ...session.user, sub: nopassSub, preferredUsername } };
    },
    // Auth.js only redirects within the application unless told that the bridge's
    // end-session endpoint is a place it may send the browser after signing out.
    redirect({ url, baseUrl }) {
      if (url.startsWith('/')) return `${baseUrl}${url}`;
      if (url.startsWith(`${endSession}?`)) return url;
      return new URL(url).origin === baseUrl ? url : baseUrl;
    },
  },
};

const app = express();
// Express 5 no longer accepts Auth.js's documented "/auth/*" pattern; a mount path works.
app.use('/auth', ExpressAuth(config));

app.get('/profile', async (req, res) => {
  const session = await getSession(req, config);
  if (!session) {
    res.redirect(`/auth/signin?${new URLSearchParams({ callbackUrl: '/profile' })}`);
    return;
  }
  res.json(session);
});

app.get('/logout', async (req, res) => {
  const token = await getToken({
    req: { headers: { cookie: req.headers.cookie ?? '' } },
    secret,
    secureCookie: req.protocol === 'https',
  });
  const target = new URL(endSession);
  if (typeof token?.idToken === 'string') target.searchParams.set('id_token_hint', token.idToken);
  target.searchParams.set(
    'post_logout_redirect_uri',
    `${req.protocol}://${req.get('host')}/signed-out`,
  );
  // Auth.js's sign-out page asks for confirmation, then continues to the bridge.
  res.redirect(`/auth/signout?${new URLSearchParams({ callbackUrl: target.href })}`);
});

app.get('/signed-out', (_req, res) => {
  res.type('text').send('Signed out');
});

app.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1', (error) => {
  if (error) throw error;
  process.stdout.write('listening\n');
});
