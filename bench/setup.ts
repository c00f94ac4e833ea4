/**
 * What every benchmark shares: a run directory with the signing keys, cookie keys and clients
 * file that the bridge and the bare provider both use, the NoPass simulator process, and ways
 * to start bridge instances (in memory, or on a Redis of the run's own) with the portal
 * registered through the real handshake.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { BENCH_CLIENT } from './client.ts';
import { freePort, spawnNode, type Proc } from './processes.ts';

const ADMIN_ID = 'bench-admin';
const S_CODE = 'Bench-SCode-2024';
const COOKIE_KEYS = 'bench-cookie-key-0123456789abcdefghijklmnop';

export interface Workspace {
  dir: string;
  jwksFile: string;
  clientsFile: string;
  cookieKeys: string;
  /** Processes to stop at the end, whatever happens. */
  procs: Set<Proc>;
  /** node flags for bridge processes (profiling). */
  bridgeFlags: string[];
}

export async function createWorkspace(bridgeFlags: string[] = []): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'bridge-bench-'));
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const key = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'RS256', use: 'sig' };
  const jwksFile = join(dir, 'jwks.json');
  await writeFile(jwksFile, JSON.stringify({ keys: [key] }));
  const clientsFile = join(dir, 'clients.json');
  await writeFile(clientsFile, JSON.stringify([BENCH_CLIENT]));
  return { dir, jwksFile, clientsFile, cookieKeys: COOKIE_KEYS, procs: new Set(), bridgeFlags };
}

function track(ws: Workspace, proc: Proc): Proc {
  ws.procs.add(proc);
  const stop = proc.stop.bind(proc);
  proc.stop = async () => {
    await stop();
    ws.procs.delete(proc);
  };
  return proc;
}

/** The simulator as its own process; `nextChangeMs` long, so pictures do not rotate. */
export async function startSimulator(ws: Workspace, name = 'simulator'): Promise<Proc> {
  const port = await freePort();
  return track(
    ws,
    await spawnNode({
      name,
      args: ['src/main.ts', 'simulator'],
      env: { SIMULATOR_PORT: String(port), LOG_LEVEL: 'warn' },
      port,
      dir: ws.dir,
      readyPath: '/control/faults',
    }),
  );
}

export async function control(simulator: Proc, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${simulator.url}/control${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`simulator ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

export interface BridgeOptions {
  name: string;
  simulator: Proc;
  port?: number;
  issuer?: string;
  redisUrl?: string;
  /** A portal already registered; otherwise /readyz waits for the handshake. */
  portal?: { portalId: string; authToken: string };
  readyPath?: string;
}

/** A bridge process as an operator runs it: JSON logs at info, to a file. */
export async function startBridge(ws: Workspace, options: BridgeOptions): Promise<Proc> {
  const port = options.port ?? (await freePort());
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    PORT: String(port),
    ISSUER: options.issuer ?? `http://127.0.0.1:${port}`,
    NOPASS_SERVER_URL: options.simulator.url,
    NOPASS_ADMIN_ID: ADMIN_ID,
    NOPASS_S_CODE: S_CODE,
    CLIENTS_FILE: ws.clientsFile,
    JWKS_FILE: ws.jwksFile,
    COOKIE_KEYS: ws.cookieKeys,
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    // The load driver signs one user in thousands of times from 127.0.0.1. The limits stay on,
    // so their cost is measured, but high enough never to refuse.
    RATE_LIMIT_SIGNIN_PER_IP: '10000000',
    RATE_LIMIT_SIGNIN_PER_USER: '10000000',
    RATE_LIMIT_CALLBACKS_PER_IP: '10000000',
  };
  if (options.redisUrl) env.REDIS_URL = options.redisUrl;
  if (options.portal) {
    env.NOPASS_PORTAL_ID = options.portal.portalId;
    env.NOPASS_AUTH_TOKEN = options.portal.authToken;
  }
  return track(
    ws,
    await spawnNode({
      name: options.name,
      args: ['src/main.ts', 'start'],
      env,
      port,
      dir: ws.dir,
      readyPath: options.readyPath ?? '/healthz',
      nodeFlags: ws.bridgeFlags,
    }),
  );
}

/** Registers a portal whose callbacks go to `bridge`, through the simulator's handshake. */
export async function registerPortal(
  simulator: Proc,
  bridge: Proc,
): Promise<{ portalId: string; authToken: string }> {
  return (await control(simulator, '/portals', {
    webUrl: bridge.url,
    adminId: ADMIN_ID,
    sCode: S_CODE,
    name: 'Benchmark bridge',
  })) as { portalId: string; authToken: string };
}

/** The bare oidc-provider, same keys, clients file, cookie keys and adapter. */
export async function startBare(ws: Workspace): Promise<Proc> {
  const port = await freePort();
  return track(
    ws,
    await spawnNode({
      name: 'bare-provider',
      args: ['bench/bare-provider.ts'],
      env: {
        PORT: String(port),
        ISSUER: `http://127.0.0.1:${port}`,
        JWKS_FILE: ws.jwksFile,
        CLIENTS_FILE: ws.clientsFile,
        COOKIE_KEYS: ws.cookieKeys,
      },
      port,
      dir: ws.dir,
    }),
  );
}
