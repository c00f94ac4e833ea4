/**
 * Starts real parts on loopback for a test: the NoPass simulator, a bridge configured against
 * it (portal registered through the real handshake), and an openid-client relying party.
 * Everything listens on an ephemeral port and is closed by `stop()`.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { createBridge, type Bridge } from '../../src/app.ts';
import { createLogger } from '../../src/log.ts';
import { readSettings, type Settings } from '../../src/settings/index.ts';
import {
  createSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/index.ts';

export const RP_REDIRECT = 'http://127.0.0.1:65001/callback';
export const RP_CLIENT = {
  client_id: 'test-rp',
  client_secret: 'test-rp-secret-that-is-long-enough',
  redirect_uris: [RP_REDIRECT],
  post_logout_redirect_uris: ['http://127.0.0.1:65001/after-logout'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  // The organisation's own application: no consent page, as the bridge's own tests expect.
  first_party: true,
};

export interface Harness {
  /** The clients file the bridge reads. */
  clientsFile: string;
  /** Every log line the bridge wrote, parsed, when the harness was asked to keep them. */
  logs: Record<string, unknown>[];
  simulator: Simulator;
  simulatorUrl: string;
  bridge: Bridge;
  issuer: string;
  settings: Settings;
  rp: oidc.Configuration;
  /** POSTs JSON to the simulator's control API. */
  control(path: string, body?: unknown, method?: string): Promise<Response>;
  /** The simulator's authentications for a user id still waiting for a verdict. */
  auths(userId: string): Promise<{ authId: string; image: string; pictureSeq: number }[]>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** Keep the bridge's log lines (at info and above) in `logs`. */
  keepLogs?: boolean;
  env?: Record<string, string>;
  simulator?: SimulatorOptions;
  clients?: unknown[];
  /** Skip the portal registration handshake. */
  unregistered?: boolean;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const simulator = createSimulator({ nextChangeMs: 20_000, ...options.simulator });
  const { url: simulatorUrl } = await simulator.listen(0, '127.0.0.1');

  // The issuer must be known before the provider exists, so the port is taken first.
  const server = createServer();
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;

  const dir = await mkdtemp(join(tmpdir(), 'bridge-test-'));
  const clientsFile = join(dir, 'clients.json');
  await writeFile(clientsFile, JSON.stringify(options.clients ?? [RP_CLIENT]));

  const settings = readSettings(
    {
      PORT: String(port),
      ISSUER: issuer,
      NOPASS_SERVER_URL: simulatorUrl,
      NOPASS_ADMIN_ID: 'test-admin',
      NOPASS_S_CODE: 'TestSCode-1234',
      CLIENTS_FILE: clientsFile,
      LOG_LEVEL: 'silent',
      NOPASS_TIMEOUT_MS: '2000',
      ...options.env,
    },
    () => 'x',
  );
  const logs: Record<string, unknown>[] = [];
  const log = options.keepLogs
    ? createLogger('info', {
        write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>),
      })
    : createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const bridge = await createBridge({ settings, log, nopassServerUrl: simulatorUrl });
  const handle = bridge.app.callback();
  server.on('request', (req, res) => void handle(req, res));

  if (!options.unregistered) {
    await simulator.registerPortal({
      webUrl: `${issuer}${settings.callbackPrefix}`,
      adminId: settings.adminId,
      sCode: settings.sCode,
    });
  }

  const rp = await oidc.discovery(
    new URL(issuer),
    RP_CLIENT.client_id,
    RP_CLIENT.client_secret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );

  const control = (path: string, body?: unknown, method = 'POST'): Promise<Response> =>
    fetch(`${simulatorUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  return {
    clientsFile,
    logs,
    simulator,
    simulatorUrl,
    bridge,
    issuer,
    settings,
    rp,
    control,
    async auths(userId) {
      const response = await fetch(
        `${simulatorUrl}/control/auths?status=waiting&userId=${encodeURIComponent(userId)}`,
      );
      return (await response.json()) as { authId: string; image: string; pictureSeq: number }[];
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bridge.close();
      await simulator.close();
    },
  };
}

export interface AuthRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

/** What the relying party sends the browser to: a code flow with PKCE, state and nonce. */
export async function authorizationRequest(
  rp: oidc.Configuration,
  extra: Record<string, string> = {},
): Promise<AuthRequest> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}
