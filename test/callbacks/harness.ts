/**
 * A bridge-shaped Koa app for the callback tests: the callback router over a MemoryStore and a
 * MemoryBus, a clock the test moves, a captured log, and helpers to post callbacks over real
 * HTTP on 127.0.0.1 and to put a pending login in the store.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createCallbackRouter } from '../../src/callbacks/index.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { readSettings, type Settings } from '../../src/settings/index.ts';
import { MemoryBus } from '../../src/state/memory/bus.ts';
import { MemoryStore } from '../../src/state/memory/store.ts';
import type { PendingLogin, Store } from '../../src/state/types.ts';
import { captureLog } from '../nopass/canned-server.ts';
import { pngBase64 } from '../nopass/pictures.ts';

export const ADMIN_ID = 'nopassadmin';
export const S_CODE = '0B43ACAF37AF4F8183B2DDD482837E91';
export const START = 1_700_000_000_000;
export const IMAGE = pngBase64();
export const LOGIN_TTL_MS = 360_000;

export interface Harness {
  url: string;
  /** Base of the callback paths, e.g. `http://127.0.0.1:1234/api/PortalCommunication`. */
  base: string;
  store: Store;
  bus: MemoryBus;
  settings: Settings;
  clock: { now: number };
  logs: ReturnType<typeof captureLog>;
  /** POSTs `body` (JSON unless a string) to `<base>/<op>`. */
  post(op: string, body: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** Puts a waiting login in the store and returns it. */
  addLogin(authId: string, overrides?: Partial<PendingLogin>): Promise<PendingLogin>;
  close(): Promise<void>;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export async function startHarness(
  options: {
    settings?: Partial<Settings>;
    store?: (now: () => number) => Store;
    /** Middleware mounted after the callback router, as the OIDC provider is. */
    after?: Koa.Middleware;
  } = {},
): Promise<Harness> {
  const clock = { now: START };
  const now = (): number => clock.now;
  const settings: Settings = {
    ...readSettings({ NOPASS_ADMIN_ID: ADMIN_ID, NOPASS_S_CODE: S_CODE, PORT: '3999' }, () => 'x'),
    ...options.settings,
  };
  const store = options.store?.(now) ?? new MemoryStore(now);
  const bus = new MemoryBus();
  const logs = captureLog();

  const app = new Koa();
  app.silent = true;
  const metrics = createMetrics({ defaultMetrics: false });
  app.use(createCallbackRouter({ store, bus, settings, log: logs.log, now, metrics }));
  if (options.after) app.use(options.after);

  const handle = app.callback();
  const server: Server = createServer((request, response) => {
    void handle(request, response);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const base = `${url}${settings.callbackPrefix}/api/PortalCommunication`;

  return {
    url,
    base,
    store,
    bus,
    settings,
    clock,
    logs,
    async post(op, body, headers = {}) {
      const response = await fetch(`${base}/${op}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
      };
    },
    async addLogin(authId, overrides = {}) {
      const login: PendingLogin = {
        authId,
        interactionUid: `interaction-${authId}`,
        userId: 'alice',
        clientId: 'demo',
        image: IMAGE,
        nextChange: 30_000,
        pictureAt: clock.now,
        pictureSeq: 1,
        deadline: clock.now + 35_000,
        verdict: 'waiting',
        consumed: false,
        createdAt: clock.now,
        ...overrides,
      };
      await store.createLogin(login, LOGIN_TTL_MS);
      return login;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bus.close();
    },
  };
}
