/**
 * The composition root: settings → store and bus → keys and clients → provider → routers → Koa.
 * Nothing else in the bridge creates a long-lived object; everything receives what it needs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { ClientMetadata, Provider } from 'oidc-provider';
import { accountClient } from './account/client.ts';
import { createAccountRouter } from './account/router.ts';
import { createCallbackRouter } from './callbacks/index.ts';
import { createDemoRouter, type DemoClient } from './demo/router.ts';
import { errorHandler } from './http/error-handler.ts';
import { createHealthRouter } from './http/health.ts';
import { createMetrics, createMetricsRouter, type Metrics } from './http/metrics.ts';
import { createRateLimits, type RateLimitOptions } from './http/rate-limits.ts';
import { RequestLogs, requestId } from './http/request-id.ts';
import { securityHeaders } from './http/security-headers.ts';
import { createStaticRouter } from './http/static.ts';
import { unrouted } from './http/unrouted.ts';
import { createViews } from './http/views.ts';
import { createInteractionRouter } from './interaction/router.ts';
import type { Logger } from './log.ts';
import { createNoPassCircuit } from './nopass/circuit.ts';
import { createNoPassClient } from './nopass/client.ts';
import { ClientRegistry } from './oidc/client-registry.ts';
import { checkClients, readClientsFile } from './oidc/clients.ts';
import { watchClientsFile } from './oidc/clients-reload.ts';
import { logProviderEvents } from './oidc/events.ts';
import { loadCookieKeys, loadSigningKeys } from './oidc/keys.ts';
import { closeNoPassSessionsOnLogout, logoutDeletedAccount } from './oidc/logout.ts';
import { createProvider, SESSION_TTL_S } from './oidc/provider.ts';
import type { Settings } from './settings/index.ts';
import { MemoryBus } from './state/memory/bus.ts';
import { MemoryStore } from './state/memory/store.ts';
import type { Bus, Store } from './state/types.ts';
import { createUserDeletion, type UserDeletion } from './users/deletion.ts';

/** How long `close()` lets requests in flight finish before cutting the connections. */
export const DRAIN_MS = 5000;

export interface BridgeOptions {
  settings: Settings;
  log: Logger;
  /** Base URL of the NoPass server (the embedded simulator's in quickstart mode). */
  nopassServerUrl: string;
  now?: () => number;
  /** The quickstart's demo relying party, registered besides the clients file. */
  demo?: DemoClient;
  /** Link to the simulator's phone page for a user id, shown on the picture page. */
  phoneUrl?: (userId: string) => string;
  /** The metrics to count into; a fresh set on a registry of its own when absent. */
  metrics?: Metrics;
}

export interface Bridge {
  app: Koa;
  provider: Provider;
  store: Store;
  bus: Bus;
  metrics: Metrics;
  /** Deletes users and revokes what they were issued (DeleteUser uses it). */
  userDeletion: UserDeletion;
  /** Keys were generated rather than supplied (a development-only situation). */
  generatedKeys: boolean;
  listen(port: number, host?: string): Promise<{ url: string; server: Server }>;
  /**
   * Shuts down gracefully: /readyz turns not ready, open event streams are told to reconnect
   * (they land on another instance), the server stops accepting, requests in flight get up to
   * DRAIN_MS to finish, then the store and bus are closed.
   */
  close(): Promise<void>;
}

interface State {
  store: Store;
  bus: Bus;
  /** Where the rate limits count when Redis holds the state: shared by every instance. */
  rateLimitStore?: RateLimitOptions['redis'];
}

/** Memory for one instance (the default); Redis when any Redis setting is there. */
async function createState(settings: Settings, log: Logger, now: () => number): Promise<State> {
  if (settings.redis) {
    // Loaded only when asked for: an in-memory bridge starts sooner and smaller without it.
    const { openRedisState } = await import('./state/redis/index.ts');
    const { store, bus, client, keys } = await openRedisState(settings.redis, log);
    return { store, bus, rateLimitStore: { client, prefix: (limit) => keys.rateLimit(limit) } };
  }
  return { store: new MemoryStore(now), bus: new MemoryBus() };
}

export async function createBridge(options: BridgeOptions): Promise<Bridge> {
  const { settings, log } = options;
  const now = options.now ?? Date.now;
  const state = await createState(settings, log, now);
  const { store, bus } = state;
  try {
    return await assemble(options, state, now);
  } catch (error) {
    // A bad clients file or key set must not leave Redis connections holding the process.
    await bus.close();
    await store.close();
    throw error;
  }
}

async function assemble(options: BridgeOptions, state: State, now: () => number): Promise<Bridge> {
  const { settings, log } = options;
  const { store, bus } = state;
  const closing = new AbortController();
  const metrics = options.metrics ?? createMetrics();
  const rateLimits = createRateLimits({
    settings: settings.rateLimits,
    log,
    metrics,
    redis: state.rateLimitStore,
  });
  const requestLogs = new RequestLogs(log);

  const signing = await loadSigningKeys(settings, store);
  const cookieKeys = await loadCookieKeys(settings, store);
  const fileClients = await readClientsFile(settings.clientsFile);
  // Clients of the bridge's own pages: the account page always, the demo in the quickstart.
  const extraClients: ClientMetadata[] = [accountClient(settings.issuer)];
  if (options.demo) extraClients.push(options.demo.metadata);
  const clients = new ClientRegistry([...fileClients, ...extraClients]);

  const { branding } = settings;
  const views = createViews({
    quickstart: settings.quickstart,
    registrationOffered: settings.registration.enabled,
    // The social networks the user id page offers (NOPASS_SOCIAL).
    socialNetworks: settings.social,
    brand: {
      name: branding.name,
      logo: branding.logoFile !== undefined,
      styles: branding.color !== undefined,
      supportUrl: branding.supportUrl,
    },
  });
  const provider = createProvider({
    issuer: settings.issuer,
    store,
    clients,
    signingKeys: signing.keys,
    cookieKeys,
    trustProxy: settings.trustProxy,
    views,
  });
  await checkClients(provider, fileClients, settings.clientsFile);
  logProviderEvents(provider, { requestLogs, metrics });
  const clientsReloader = watchClientsFile({
    file: settings.clientsFile,
    registry: clients,
    provider,
    log,
    extra: extraClients,
  });

  // One circuit for every operation: the NoPass server is one dependency.
  const circuit = createNoPassCircuit({ settings: settings.nopassCircuit, log, metrics });
  const nopass = createNoPassClient({
    baseUrl: options.nopassServerUrl,
    credentials: async () => settings.configuredPortal ?? (await store.getPortal()),
    timeoutMs: settings.nopassTimeoutMs,
    log,
    metrics,
    circuit,
  });
  const logout = { provider, store, nopass, log, sessionTtlMs: SESSION_TTL_S * 1000 };
  closeNoPassSessionsOnLogout(logout);
  // Steps that must see a deleted user's sessions before they are revoked (notifying relying
  // parties through back-channel logout) belong in `beforeRevoke`: see users/deletion.ts.
  const userDeletion = createUserDeletion({
    store,
    log,
    beforeRevoke: [logoutDeletedAccount(logout)],
  });

  const app = new Koa({ proxy: settings.trustProxy, keys: cookieKeys });
  app.silent = true;
  app.use(requestId(log, requestLogs));
  app.use(securityHeaders);
  app.use(errorHandler(views, log));

  const routers = [
    createHealthRouter({
      store,
      bus,
      settings,
      closing: closing.signal,
      nopassCircuit: () => circuit.state(),
    }),
    createMetricsRouter(metrics, settings.metricsToken),
    createStaticRouter(settings.branding),
    createInteractionRouter({
      provider,
      nopass,
      store,
      bus,
      settings,
      views,
      log,
      metrics,
      now,
      rateLimits,
      cookieKeys,
      phoneUrl: options.phoneUrl,
      closing: closing.signal,
    }),
  ];
  routers.push(
    createAccountRouter({
      issuer: settings.issuer,
      store,
      nopass,
      deletion: userDeletion,
      provider,
      views,
      log,
      now,
      cookieKeys,
    }),
  );
  if (options.demo) routers.push(createDemoRouter(settings.issuer, options.demo, views));
  for (const router of routers) app.use(router.routes()).use(router.allowedMethods());

  app.use(
    createCallbackRouter({
      store,
      bus,
      settings,
      log,
      now,
      metrics,
      deletion: userDeletion,
      rateLimits,
    }),
  );

  if (!options.demo) {
    app.use(async (ctx, next) => {
      if (ctx.path !== '/' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) {
        await next();
        return;
      }
      ctx.type = 'html';
      ctx.body = views.page(ctx, 'landing', { demo: false });
    });
  }

  // An address or method neither the bridge nor the provider takes: the bridge's own answer.
  app.use(unrouted(views));

  // What is left is OpenID Connect: handed to oidc-provider (no body parser), which builds
  // every URL it publishes (discovery, redirects, logout) from the request's host and scheme.
  // Those are pinned to the configured issuer first, so a forged Host or X-Forwarded-Host
  // cannot put another origin into discovery or a cache in front of it.
  const oidcHandler = provider.callback();
  const issuerUrl = new URL(settings.issuer);
  app.use(async (ctx) => {
    ctx.respond = false;
    ctx.req.headers.host = issuerUrl.host;
    delete ctx.req.headers['x-forwarded-host'];
    if (settings.trustProxy) ctx.req.headers['x-forwarded-proto'] = issuerUrl.protocol.slice(0, -1);
    await oidcHandler(ctx.req, ctx.res);
  });

  let server: Server | undefined;
  return {
    app,
    provider,
    store,
    bus,
    metrics,
    userDeletion,
    generatedKeys: signing.generated,
    listen(port, host) {
      const handle = app.callback();
      const listening = createServer((req, res) => void handle(req, res));
      server = listening;
      return new Promise((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, host, () => {
          const address = listening.address() as AddressInfo;
          const shown = host ?? 'localhost';
          resolve({ url: `http://${shown}:${address.port}`, server: listening });
        });
      });
    },
    async close() {
      closing.abort();
      clientsReloader.close();
      if (server) {
        const listening = server;
        const closed = new Promise<void>((resolve) => listening.close(() => resolve()));
        // A keep-alive connection goes as soon as its last response is out; any still busy
        // after DRAIN_MS is cut.
        const sweep = setInterval(() => listening.closeIdleConnections(), 50);
        const drain = setTimeout(() => listening.closeAllConnections(), DRAIN_MS);
        await closed;
        clearInterval(sweep);
        clearTimeout(drain);
      }
      circuit.close();
      await bus.close();
      await store.close();
    },
  };
}
