/**
 * The NoPass simulator: a NoPass server built from the vendor's guide, speaking the wire
 * protocol over real HTTP, for the quickstart, the tests, and anyone integrating without vendor
 * credentials. It is its own Koa app with four parts:
 *
 * - the four server operations a portal calls (server-api.ts, operations/),
 * - the calls it makes to portals: the registration handshake, UpdatePicture, AuthorizedUser,
 *   and the app's part of a user's account: ValidateUserRegistration, ConfirmUserRegistration,
 *   UpdateUser, DeleteUser (portal-registration.ts, auth-sessions.ts, user-accounts.ts,
 *   portal-calls.ts),
 * - the phone page a person uses to approve or refuse (phone.ts), and the social network
 *   sign-in page a social RequestAuthorization's `loginUrl` leads to (social.ts),
 * - the control API for tests and scripts, with fault knobs (control.ts, faults.ts).
 *
 * Everything lives in memory; `close()` stops every timer and in-flight call.
 */
import { createServer, type Server } from 'node:http';
import Koa from 'koa';
import { pino, type Logger } from 'pino';
import { stopAllTimers } from './auth-sessions.ts';
import type { Casing } from './casing.ts';
import { controlRouter } from './control.ts';
import { noFaults } from './faults.ts';
import { httpUrl, jsonErrors, notFound } from './http.ts';
import { phoneRouter } from './phone.ts';
import { registerPortal, type PortalRegistrationInput } from './portal-registration.ts';
import { serverApiRouter } from './server-api.ts';
import { socialRouter } from './social.ts';
import type { SimulatorCore } from './state.ts';

export { PortalRegistrationError } from './portal-registration.ts';
export type { PortalRegistrationInput } from './portal-registration.ts';

export interface SimulatorOptions {
  /** Where the simulator logs; silent when absent. */
  log?: Logger;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
  /** Lifetime of each picture in milliseconds (`nextChange`); default 20000. */
  nextChangeMs?: number;
  /** Pictures per authentication before it stops rotating and the portal sees expiry; default 6. */
  maxPictures?: number;
  /** Property casing of the calls made to portals; default 'camel'. */
  callbackCasing?: Casing;
  /** User ids every portal knows, besides 'demo' which is always known. */
  users?: string[];
  /** Base URL shown in links (phone page, registration links); default derived from the request. */
  publicUrl?: string;
}

export interface Simulator {
  /** The Koa app, for callers that listen on it themselves. */
  app: Koa;
  /** Listens on `port` (0 for any free port) and `host` (default 127.0.0.1). */
  listen(port: number, host?: string): Promise<{ url: string; close(): Promise<void> }>;
  /**
   * Registers a portal the way the vendor's registration page does, calling the portal's
   * ConfirmPreRegistration and ConfirmRegistration. Rejects with a `PortalRegistrationError`
   * naming what was wrong when the portal answers incorrectly.
   */
  registerPortal(input: PortalRegistrationInput): Promise<{ portalId: string; authToken: string }>;
  /** Stops every timer and in-flight call and closes every server `listen` opened. */
  close(): Promise<void>;
}

/** Creates a simulator. Nothing listens until `listen` is called (or the app is mounted). */
export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const sim = core(options);
  const app = new Koa();
  // Errors are answered and logged by jsonErrors; Koa's own stderr printing would duplicate them.
  app.silent = true;
  app.use(jsonErrors(sim.log));
  app.use(notFound);
  const routers = [serverApiRouter(sim), controlRouter(sim), phoneRouter(sim), socialRouter(sim)];
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }

  const servers = new Set<Server>();

  return {
    app,
    async listen(port, host = '127.0.0.1') {
      const handle = app.callback();
      // Koa's handler settles every request itself; its promise carries nothing to wait for.
      const server = createServer((req, res) => void handle(req, res));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      servers.add(server);
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
      return {
        url,
        close: async () => {
          servers.delete(server);
          await closeServer(server);
        },
      };
    },
    registerPortal: (input) => registerPortal(sim, input),
    async close() {
      sim.closing.abort();
      stopAllTimers(sim);
      const open = [...servers];
      servers.clear();
      await Promise.all(open.map(closeServer));
    },
  };
}

function core(options: SimulatorOptions): SimulatorCore {
  const nextChangeMs = options.nextChangeMs ?? 20_000;
  if (!Number.isInteger(nextChangeMs) || nextChangeMs < 1) {
    throw new RangeError('nextChangeMs must be a whole number of milliseconds, at least 1');
  }
  const maxPictures = options.maxPictures ?? 6;
  if (!Number.isInteger(maxPictures) || maxPictures < 1) {
    throw new RangeError('maxPictures must be a whole number, at least 1');
  }
  const users = new Set(['demo', ...(options.users ?? [])]);
  for (const user of users) {
    if (user === '' || user.length > 36) {
      throw new RangeError(`users: "${user}" must be 1 to 36 characters long`);
    }
  }
  const callbackCasing = options.callbackCasing ?? 'camel';
  if (callbackCasing !== 'camel' && callbackCasing !== 'pascal') {
    throw new RangeError(`callbackCasing must be 'camel' or 'pascal'`);
  }
  return {
    config: {
      nextChangeMs,
      maxPictures,
      callbackCasing,
      users,
      publicUrl: options.publicUrl === undefined ? undefined : publicUrl(options.publicUrl),
      portalTimeoutMs: 5000,
    },
    // Used as given: the caller decides how simulator lines are tagged.
    log: options.log ?? pino({ enabled: false }),
    now: options.now ?? Date.now,
    faults: noFaults(),
    portals: new Map(),
    portalsByToken: new Map(),
    auths: new Map(),
    registrations: new Map(),
    calls: [],
    closing: new AbortController(),
  };
}

function publicUrl(value: string): string {
  try {
    return httpUrl(value, 'publicUrl');
  } catch (error) {
    throw new RangeError((error as Error).message, { cause: error });
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive connections (portals reuse theirs) would hold close() open indefinitely.
    server.closeAllConnections();
  });
}
