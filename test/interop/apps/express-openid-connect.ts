/**
 * A relying party built with Express and express-openid-connect, run as its own process by the
 * interop test. The issuer and the client come from the library's own environment variables
 * (ISSUER_BASE_URL, BASE_URL, CLIENT_ID, CLIENT_SECRET, SECRET); the code only picks the
 * authorization code flow with the scopes the bridge offers, and sign-out at the bridge too.
 * HOST and PORT say where it listens.
 *
 *   /profile      the claims the application sees (signs in first)
 *   /logout       the library's route: ends the local session, then the bridge's
 *   /signed-out   where the bridge sends the browser back after signing out
 */
import express from 'express';
import openidConnect from 'express-openid-connect';

// A CommonJS package whose exports ES modules cannot import by name.
const { auth, requiresAuth } = openidConnect;

const app = express();
app.use(
  auth({
    authRequired: false,
    // The library defaults to the implicit flow and asks for "email", which the bridge lacks.
    authorizationParams: { response_type: 'code', scope: 'openid profile' },
    // Without this, /logout ends only the application's session, not the one at the bridge.
    idpLogout: true,
    routes: { postLogoutRedirect: '/signed-out' },
  }),
);

app.get('/profile', requiresAuth(), (req, res) => {
  res.json({ user: req.oidc.user, idTokenClaims: req.oidc.idTokenClaims });
});

app.get('/signed-out', (_req, res) => {
  res.type('text').send('Signed out');
});

app.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1', (error) => {
  if (error) throw error;
  process.stdout.write('listening\n');
});
