/**
 * The benchmarks' point of comparison: oidc-provider on its own, with the bridge's signing keys,
 * clients file, cookie keys and store adapter, and an interaction that finishes at once (login
 * and consent for the user "demo") instead of a NoPass sign-in. Started as its own process by
 * bench/run.ts:
 *
 *   node bench/bare-provider.ts   (PORT, ISSUER, JWKS_FILE, CLIENTS_FILE, COOKIE_KEYS)
 */
import { readFileSync } from 'node:fs';
import Provider, { type ClientMetadata } from 'oidc-provider';
import type { JWK } from 'jose';
import { providerAdapter } from '../src/oidc/adapter.ts';
import { ClientRegistry } from '../src/oidc/client-registry.ts';
import { MemoryStore } from '../src/state/memory/store.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const port = Number(env('PORT'));
const jwks = JSON.parse(readFileSync(env('JWKS_FILE'), 'utf8')) as { keys: JWK[] };
const clients = JSON.parse(readFileSync(env('CLIENTS_FILE'), 'utf8')) as ClientMetadata[];
const store = new MemoryStore();

const provider = new Provider(env('ISSUER'), {
  adapter: providerAdapter(store, new ClientRegistry(clients)),
  jwks,
  cookies: { keys: env('COOKIE_KEYS').split(',') },
  findAccount: (_ctx, sub) => ({
    accountId: sub,
    claims: () => ({ sub, preferred_username: sub }),
  }),
  claims: { openid: ['sub'], profile: ['preferred_username'] },
  conformIdTokenClaims: false,
  extraClientMetadata: { properties: ['first_party'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});

provider.use(async (ctx, next) => {
  if (ctx.path === '/healthz') {
    ctx.body = { status: 'ok' };
    return;
  }
  if (!ctx.path.startsWith('/interaction/')) {
    await next();
    return;
  }
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const grant = new provider.Grant({
    accountId: 'demo',
    clientId: String(details.params.client_id),
  });
  if (typeof details.params.scope === 'string') grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(
    ctx.req,
    ctx.res,
    { login: { accountId: 'demo' }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
  ctx.respond = false;
});

provider.listen(port, '127.0.0.1');
process.once('SIGTERM', () => process.exit(0));
