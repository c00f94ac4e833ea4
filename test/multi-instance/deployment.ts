/**
 * A deployment of several bridge PROCESSES on one Redis, as an operator would run them behind
 * a load balancer, with the NoPass simulator and the relying party in the test process. Every
 * instance has the same ISSUER (the first one's URL) and its own port; a test picks which
 * instance takes each request, the way a load balancer would. Callbacks from the simulator land
 * on the instance the portal was registered with (the second one), never on the one a browser
 * streams from. Every process and the redis-server end with `stop()`, and with the test process
 * whatever happens.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as oidc from 'openid-client';
import { createSimulator, type Simulator } from '../../src/simulator/index.ts';
import { Browser, type Hop } from '../helpers/browser.ts';
import { RP_CLIENT, RP_REDIRECT } from '../helpers/harness.ts';
import { freePort, startRedis, type RedisServer } from '../helpers/redis.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const ADMIN_ID = 'multi-admin';
const S_CODE = 'Multi-SCode-2024';

// The bridge needs Node 24 (it runs its TypeScript directly): the test runner's own node is the
// project's devDependency when started through `npm test`.
if (!process.version.startsWith('v24.')) {
  throw new Error(
    `multi-instance tests need Node 24 (run them with npm test); got ${process.version}`,
  );
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export interface Instance {
  name: string;
  port: number;
  url: string;
  /** Recent output lines, for failure messages. */
  output(): string;
  /** Sends `signal` and resolves with how the process ended and how long that took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
  exited(): boolean;
}

async function waitForHealth(instance: Instance, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const ok = await fetch(`${instance.url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${instance.name} did not start:\n${instance.output()}`);
}

/** Starts one bridge process and waits until it answers /healthz. */
export async function spawnInstance(
  name: string,
  port: number,
  env: Record<string, string>,
): Promise<Instance> {
  const child = spawn(process.execPath, ['src/main.ts', 'start'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 100));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const instance: Instance = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => lines.join('\n'),
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop(signal = 'SIGTERM') {
      const started = Date.now();
      if (instance.exited()) return { code: child.exitCode, ms: 0 };
      const exited = once(child, 'exit');
      child.kill(signal);
      // Bounded even if the process ignored the signal.
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      return { code: child.exitCode, ms: Date.now() - started };
    },
  };
  try {
    await waitForHealth(instance, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return instance;
}

export interface Deployment {
  redis: RedisServer;
  simulator: Simulator;
  simulatorUrl: string;
  instances: Instance[];
  issuer: string;
  /** The relying party; its requests go to the instance `routeTo` last chose. */
  rp: oidc.Configuration;
  /** Sends the relying party's next requests (token, userinfo) to `instance`. */
  routeTo(instance: Instance): void;
  /** Starts (again) the instance at `index`, on its port, with the deployment's settings. */
  respawn(index: number): Promise<Instance>;
  control(path: string, body?: unknown): Promise<Response>;
  /** The simulator's only waiting authentication for `userId`. */
  onlyAuth(userId: string): Promise<string>;
  /** A user id the simulator knows, fresh for each call. */
  newUser(): Promise<string>;
  stop(): Promise<void>;
}

/** The same URL on another instance: what a load balancer does to a request. */
export function on(instance: Instance, url: string): string {
  const target = new URL(url);
  target.port = String(instance.port);
  return target.href;
}

/** Redis, the simulator and `count` bridge processes, ready to sign people in. */
export async function startDeployment(count: number): Promise<Deployment> {
  const redis = await startRedis();
  const simulator = createSimulator({ nextChangeMs: 60_000 });
  const { url: simulatorUrl } = await simulator.listen(0, '127.0.0.1');
  const dir = await mkdtemp(join(tmpdir(), 'bridge-multi-'));
  const clientsFile = join(dir, 'clients.json');
  await writeFile(clientsFile, JSON.stringify([RP_CLIENT]));

  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const issuer = `http://127.0.0.1:${ports[0]}`;
  const env = {
    ISSUER: issuer,
    REDIS_URL: redis.url,
    NOPASS_SERVER_URL: simulatorUrl,
    NOPASS_ADMIN_ID: ADMIN_ID,
    NOPASS_S_CODE: S_CODE,
    NOPASS_TIMEOUT_MS: '3000',
    CLIENTS_FILE: clientsFile,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
  };
  const names = ['A', 'B', 'C', 'D', 'E'];
  const instances: Instance[] = [];
  const stopEverything = async (): Promise<void> => {
    await Promise.all(instances.map((instance) => instance.stop('SIGKILL')));
    await simulator.close();
    await redis.close();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    // Started together, on purpose: they race to create the shared signing and cookie keys.
    instances.push(
      ...(await Promise.all(
        ports.map((port, index) => spawnInstance(names[index] ?? `I${index}`, port, env)),
      )),
    );
    // Registered through the second instance: its callbacks land there.
    await simulator.registerPortal({
      webUrl: instances[1]?.url ?? issuer,
      adminId: ADMIN_ID,
      sCode: S_CODE,
    });
    for (const instance of instances) {
      const ready = await fetch(`${instance.url}/readyz`);
      assert.equal(ready.status, 200, `${instance.name} ready: ${await ready.text()}`);
    }
  } catch (error) {
    await stopEverything();
    throw error;
  }

  let target = instances[0]!;
  const rp = await oidc.discovery(
    new URL(issuer),
    RP_CLIENT.client_id,
    RP_CLIENT.client_secret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  // openid-client's body types are a little wider than the DOM typings of fetch; at run time
  // they are what fetch takes.
  rp[oidc.customFetch] = (url, options) => fetch(on(target, url), options as RequestInit);

  const control = (path: string, body?: unknown): Promise<Response> =>
    fetch(`${simulatorUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  let users = 0;

  return {
    redis,
    simulator,
    simulatorUrl,
    instances,
    issuer,
    rp,
    routeTo(instance) {
      target = instance;
    },
    async respawn(index) {
      const previous = instances[index]!;
      await previous.stop('SIGKILL');
      const fresh = await spawnInstance(previous.name, previous.port, env);
      instances[index] = fresh;
      return fresh;
    },
    control,
    async onlyAuth(userId) {
      const response = await fetch(
        `${simulatorUrl}/control/auths?status=waiting&userId=${encodeURIComponent(userId)}`,
      );
      const auths = (await response.json()) as { authId: string }[];
      assert.equal(auths.length, 1, 'exactly one waiting authentication at the simulator');
      return auths[0]!.authId;
    },
    async newUser() {
      users += 1;
      const userId = `multi-${users}`;
      assert.equal((await control('/control/users', { userId })).status, 200);
      return userId;
    },
    stop: stopEverything,
  };
}

/** What a browser holds in the middle of a sign-in. */
export interface SignIn {
  browser: Browser;
  userId: string;
  /** `/interaction/<uid>` on the issuer's host; use `on()` to send it to an instance. */
  interaction: string;
  verifier: string;
  state: string;
  nonce: string;
}

async function hop(browser: Browser, instance: Instance, url: string): Promise<Hop> {
  return browser.get(on(instance, url));
}

/**
 * The browser goes from the relying party to the picture page, one request per instance in
 * turn (`route` lists them); returns when the picture is shown.
 */
export async function reachPicture(
  d: Deployment,
  route: Instance[],
  userId: string,
): Promise<SignIn> {
  let turn = 0;
  const next = (): Instance => route[turn++ % route.length]!;
  const browser = new Browser();
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const authUrl = oidc.buildAuthorizationUrl(d.rp, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const auth = await hop(browser, next(), authUrl.href);
  assert.equal(auth.status, 303, auth.body);
  const interaction = new URL(auth.location!, d.issuer).href;
  assert.match(interaction, /\/interaction\/[\w-]+$/);
  const form = await hop(browser, next(), interaction);
  assert.equal(form.status, 200, form.body);
  const submitted = await browser.post(on(next(), `${interaction}/login`), { userId });
  assert.equal(submitted.status, 303, submitted.body);
  const picture = await hop(browser, next(), `${interaction}/picture`);
  assert.equal(picture.status, 200, picture.body);
  assert.match(picture.body, /data:image\/png;base64,/);
  return { browser, userId, interaction, verifier, state, nonce };
}

/**
 * From an approved picture page to the relying party's redirect URI, one request per instance
 * in turn; returns the callback URL with the code.
 */
export async function finish(signIn: SignIn, route: Instance[]): Promise<URL> {
  let turn = 0;
  let url = `${signIn.interaction}/complete`;
  for (let hops = 0; hops < 6; hops += 1) {
    const instance = route[turn++ % route.length]!;
    const response = await hop(signIn.browser, instance, url);
    assert.equal(response.status, 303, `${url} on ${instance.name}: ${response.body}`);
    const location = response.location!;
    if (location.startsWith(RP_REDIRECT)) return new URL(location);
    url = location;
  }
  assert.fail('the sign-in did not reach the relying party');
}

export interface StreamBlock {
  event?: string;
  data?: string;
  retry?: number;
}

/** A picture page's event stream, read the way EventSource would, every wait bounded. */
export class EventStream {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = '';
  #done = false;

  private constructor(reader: ReadableStreamDefaultReader<string>) {
    this.#reader = reader;
  }

  static async open(signIn: SignIn, instance: Instance): Promise<EventStream> {
    const url = on(instance, `${signIn.interaction}/events`);
    const cookie = await signIn.browser.jar.getCookieString(url);
    const response = await fetch(url, { headers: { cookie, accept: 'text/event-stream' } });
    assert.equal(response.status, 200, `event stream on ${instance.name}`);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    return new EventStream(response.body!.pipeThrough(new TextDecoderStream()).getReader());
  }

  /** The next block, or undefined once the stream has ended. */
  async next(timeoutMs = 5000): Promise<StreamBlock | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.#buffer.indexOf('\n\n');
      if (end >= 0) {
        const text = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const block: StreamBlock = {};
        for (const line of text.split('\n')) {
          const [field, ...rest] = line.split(': ');
          const value = rest.join(': ');
          if (field === 'event') block.event = value;
          if (field === 'data') block.data = value;
          if (field === 'retry') block.retry = Number(value);
        }
        if (block.event || block.retry !== undefined) return block;
        continue;
      }
      if (this.#done) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no event in time');
      let timer: NodeJS.Timeout | undefined;
      const read = await Promise.race([
        this.#reader.read().catch(() => ({ done: true as const, value: undefined })),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), left);
        }),
      ]);
      clearTimeout(timer);
      if (read === 'timeout') throw new Error('no event in time');
      if (read.done) this.#done = true;
      else this.#buffer += read.value;
    }
  }

  /** The next `state` message. */
  async nextState(
    timeoutMs = 5000,
  ): Promise<{ status: string; pictureSeq: number; next?: string }> {
    for (;;) {
      const block = await this.next(timeoutMs);
      if (!block) throw new Error('the stream ended');
      if (block.event === 'state' && block.data) {
        return JSON.parse(block.data) as { status: string; pictureSeq: number; next?: string };
      }
    }
  }

  /** Reads state messages until one has `status` (a waiting page gets fresh countdowns). */
  async until(status: string, timeoutMs = 5000): Promise<{ status: string; next?: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.nextState(Math.max(1, deadline - Date.now()));
      if (state.status === status) return state;
    }
  }

  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => undefined);
  }
}
