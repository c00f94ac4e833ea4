/**
 * Test helpers for the simulator: a tiny real portal (node:http) that answers the registration
 * handshake correctly unless told otherwise and records every callback, and a started simulator
 * with that portal registered. Everything crosses real HTTP on port 0.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/index.ts';

export const ADMIN_ID = 'portal-admin';
export const S_CODE = 'S3cret-CODE-2024';

/** A callback the test portal received. */
export interface PortalCall {
  op: string;
  body: Record<string, unknown>;
  at: number;
}

/** How the test portal misbehaves during registration, and what it answers to callbacks. */
export interface PortalBehaviour {
  /** Answer ConfirmPreRegistration with this S-code instead of the right one. */
  preSCode?: string;
  /** Add this to r + 1 in the ConfirmPreRegistration answer. */
  rOffset?: number;
  /** Answer ConfirmPreRegistration with this adminId. */
  adminId?: string;
  /** Answer ConfirmRegistration with this S-code. */
  confirmSCode?: string;
  /** Reply status of the callbacks after registration, by op; default 200. */
  status?: Record<string, number>;
  /** The answer to ValidateUserRegistration; default true. */
  validate?: boolean;
  /** Milliseconds DeleteUser takes to answer. */
  deleteDelayMs?: number;
}

export interface TestPortal {
  url: string;
  calls: PortalCall[];
  behaviour: PortalBehaviour;
  /** What ConfirmRegistration delivered. */
  registration?: Record<string, unknown>;
  /** Resolves with the next received call of `op` matching `test` (checks past calls first). */
  waitFor(
    op: string,
    test?: (call: PortalCall) => boolean,
    timeoutMs?: number,
  ): Promise<PortalCall>;
  close(): Promise<void>;
}

/** Reads a property whatever its casing, as the bridge must. */
export function field(body: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : body[key];
}

/** Starts a portal that serves its callbacks under `prefix` + `/api/PortalCommunication`. */
export async function startTestPortal(
  behaviour: PortalBehaviour = {},
  prefix = '',
): Promise<TestPortal> {
  const calls: PortalCall[] = [];
  const waiters = new Set<() => void>();
  const portal: Partial<TestPortal> = { calls, behaviour };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<
      string,
      unknown
    >;
    const op = (req.url ?? '').replace(`${prefix}/api/PortalCommunication/`, '');
    calls.push({ op, body, at: Date.now() });
    for (const wake of waiters) wake();
    const answer = (status: number, json?: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(json === undefined ? '' : JSON.stringify(json));
    };
    if (op === 'ConfirmPreRegistration') {
      answer(200, {
        adminId: behaviour.adminId ?? field(body, 'adminId'),
        sCode: behaviour.preSCode ?? S_CODE,
        r: Number(field(body, 'r')) + 1 + (behaviour.rOffset ?? 0),
      });
    } else if (op === 'ConfirmRegistration') {
      portal.registration = body;
      answer(200, { sCode: behaviour.confirmSCode ?? S_CODE });
    } else if (op === 'ValidateUserRegistration') {
      answer(behaviour.status?.[op] ?? 200, behaviour.validate ?? true);
    } else if (
      [
        'UpdatePicture',
        'AuthorizedUser',
        'DeleteUser',
        'ConfirmUserRegistration',
        'UpdateUser',
      ].includes(op)
    ) {
      if (op === 'DeleteUser' && behaviour.deleteDelayMs) {
        await new Promise((resolve) => setTimeout(resolve, behaviour.deleteDelayMs));
      }
      answer(behaviour.status?.[op] ?? 200, {});
    } else {
      answer(404);
    }
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  portal.url = `http://127.0.0.1:${port}${prefix}`;
  portal.waitFor = (op, test = () => true, timeoutMs = 2000) =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = calls.find((call) => call.op === op && test(call));
        if (!found) return false;
        waiters.delete(wake);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const wake = (): void => void check();
      const timer = setTimeout(() => {
        waiters.delete(wake);
        reject(new Error(`the portal received no matching ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(wake);
      check();
    });
  portal.close = async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };
  return portal as TestPortal;
}

export interface Setup {
  simulator: Simulator;
  /** Base URL of the running simulator. */
  url: string;
  portal: TestPortal;
  portalId: string;
  authToken: string;
  close(): Promise<void>;
}

/** A running simulator with a test portal registered on it. */
export async function setup(
  options: SimulatorOptions = {},
  behaviour?: PortalBehaviour,
): Promise<Setup> {
  const simulator = createSimulator({ nextChangeMs: 200, ...options });
  const { url } = await simulator.listen(0);
  const portal = await startTestPortal(behaviour);
  const { portalId, authToken } = await simulator.registerPortal({
    webUrl: portal.url,
    adminId: ADMIN_ID,
    sCode: S_CODE,
    name: 'Test Portal',
  });
  return {
    simulator,
    url,
    portal,
    portalId,
    authToken,
    close: async () => {
      await simulator.close();
      await portal.close();
    },
  };
}

/** What a server operation answered. */
export interface OperationReply {
  status: number;
  contentType: string;
  text: string;
  /** The parsed envelope (throws when the text is not JSON). */
  json(): { errors: { code: string; message: string }[]; result: unknown };
}

/** Calls a server operation like a portal does. */
export async function operation(
  s: Pick<Setup, 'url' | 'authToken'>,
  path: string,
  body: unknown,
  options: { token?: string | null; contentType?: string; raw?: string } = {},
): Promise<OperationReply> {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/json-patch+json',
  };
  const token = options.token === undefined ? s.authToken : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${s.url}/api/${path}`, {
    method: 'POST',
    headers,
    body: options.raw ?? JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text,
    json: () => JSON.parse(text) as ReturnType<OperationReply['json']>,
  };
}

/** Calls the control API; answers the status and the parsed JSON body. */
export async function control<T = Record<string, unknown>>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}/control${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

/** Starts an authentication for `userId` and returns its result. */
export async function startAuth(
  s: Setup,
  userId = 'demo',
): Promise<{ authId: string; image: string; nextChange: number }> {
  const reply = await operation(s, 'UserAuthentication/RequestAuthorization', {
    portalId: s.portalId,
    userId,
  });
  if (reply.status !== 200) throw new Error(`RequestAuthorization answered ${reply.status}`);
  return reply.json().result as { authId: string; image: string; nextChange: number };
}
