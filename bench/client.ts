/**
 * The load driver's side of a sign-in: a relying party and a browser in one, over undici
 * connection pools. Each flow has its own cookie jar (a fresh browser: no session to reuse) and
 * takes every hop itself, so a flow's time is what a person's browser and the relying party's
 * back end would wait for in total.
 *
 *   bridge: /auth (login_hint) → /interaction/:uid (RequestAuthorization) → …/events until the
 *           simulator's instant approval arrives → …/complete → /auth/:uid → code → /token
 *   bare:   /auth → /interaction/:uid (finishes at once) → /auth/:uid → code → /token
 */
import { createHash, randomBytes } from 'node:crypto';
import { Pool } from 'undici';

export const BENCH_CLIENT = {
  client_id: 'bench-rp',
  client_secret: 'bench-rp-secret-that-is-long-enough-0123',
  redirect_uris: ['http://127.0.0.1:9/callback'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  // The organisation's own application: no consent page, as for the bare provider.
  first_party: true,
};

const BASIC = `Basic ${Buffer.from(
  `${BENCH_CLIENT.client_id}:${BENCH_CLIENT.client_secret}`,
).toString('base64')}`;
const REDIRECT = BENCH_CLIENT.redirect_uris[0]!;

interface Reply {
  status: number;
  location: string | undefined;
  body: string;
}

/** A browser's cookies for one flow; paths are ignored (the hops of one flow share them). */
export class Jar {
  readonly #cookies = new Map<string, string>();

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  take(setCookie: string | string[] | undefined): void {
    for (const line of typeof setCookie === 'string' ? [setCookie] : (setCookie ?? [])) {
      const pair = line.split(';', 1)[0] ?? '';
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }
}

export class Driver {
  readonly pool: Pool;
  readonly origin: string;

  constructor(origin: string, connections: number) {
    this.origin = origin;
    this.pool = new Pool(origin, {
      connections,
      pipelining: 1,
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    jar: Jar | undefined,
    extra: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { accept: 'text/html', ...extra.headers };
    const cookie = jar?.header();
    if (cookie) headers.cookie = cookie;
    const response = await this.pool.request({ method, path, headers, body: extra.body });
    jar?.take(response.headers['set-cookie']);
    const location = response.headers.location;
    return {
      status: response.statusCode,
      location: typeof location === 'string' ? location : undefined,
      body: await response.body.text(),
    };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function pathOf(location: string | undefined, what: string): string {
  if (!location) throw new Error(`no redirect ${what}`);
  const url = new URL(location, 'http://x');
  return `${url.pathname}${url.search}`;
}

function expect(reply: Reply, status: number, what: string): void {
  if (reply.status !== status) {
    throw new Error(
      `${what}: HTTP ${reply.status}, expected ${status}: ${reply.body.slice(0, 300)}`,
    );
  }
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizePath(challenge: string, loginHint?: string): string {
  const params = new URLSearchParams({
    client_id: BENCH_CLIENT.client_id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid profile',
    state: randomBytes(8).toString('base64url'),
    nonce: randomBytes(8).toString('base64url'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  if (loginHint) params.set('login_hint', loginHint);
  return `/auth?${params}`;
}

/** What a flow ends with before the token request: the code and its PKCE verifier. */
export interface Code {
  code: string;
  verifier: string;
}

function codeOf(reply: Reply, verifier: string): Code {
  expect(reply, 303, 'resume');
  const url = new URL(reply.location ?? '', 'http://x');
  const code = url.searchParams.get('code');
  if (!code) throw new Error(`no code in ${reply.location}`);
  return { code, verifier };
}

/**
 * A bridge sign-in up to the picture page: the cookie jar and the interaction's path
 * (`/interaction/<uid>`), with NoPass's authentication started.
 */
export async function bridgePicture(
  driver: Driver,
  userId: string,
): Promise<{ jar: Jar; interaction: string }> {
  const jar = new Jar();
  const { challenge } = pkce();
  const auth = await driver.request('GET', authorizePath(challenge, userId), jar);
  expect(auth, 303, '/auth');
  const interaction = pathOf(auth.location, 'to the interaction');
  const start = await driver.request('GET', interaction, jar);
  expect(start, 303, 'interaction');
  return { jar, interaction };
}

/** A bridge sign-in up to the code, with the simulator approving at once. */
export async function bridgeCode(driver: Driver, userId = 'demo'): Promise<Code> {
  const jar = new Jar();
  const { verifier, challenge } = pkce();
  const auth = await driver.request('GET', authorizePath(challenge, userId), jar);
  expect(auth, 303, '/auth');
  const interaction = pathOf(auth.location, 'to the interaction');
  const start = await driver.request('GET', interaction, jar);
  expect(start, 303, 'interaction');
  // The picture page's event stream: it ends by itself once the verdict is in.
  const events = await driver.request('GET', `${interaction}/events`, jar, {
    headers: { accept: 'text/event-stream' },
  });
  if (!events.body.includes('"status":"approved"')) {
    throw new Error(`not approved: ${events.body.slice(-300)}`);
  }
  const complete = await driver.request('GET', `${interaction}/complete`, jar);
  expect(complete, 303, 'complete');
  const resume = await driver.request('GET', pathOf(complete.location, 'to resume'), jar);
  return codeOf(resume, verifier);
}

/** A bare provider's code flow up to the code, its interaction finishing at once. */
export async function bareCode(driver: Driver): Promise<Code> {
  const jar = new Jar();
  const { verifier, challenge } = pkce();
  const auth = await driver.request('GET', authorizePath(challenge), jar);
  expect(auth, 303, '/auth');
  const done = await driver.request('GET', pathOf(auth.location, 'to the interaction'), jar);
  expect(done, 303, 'interaction');
  const resume = await driver.request('GET', pathOf(done.location, 'to resume'), jar);
  return codeOf(resume, verifier);
}

/** The relying party redeems a code at the token endpoint. */
export async function redeem(driver: Driver, { code, verifier }: Code): Promise<void> {
  const reply = await driver.request('POST', '/token', undefined, {
    headers: {
      authorization: BASIC,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    }).toString(),
  });
  expect(reply, 200, '/token');
  if (!reply.body.includes('"id_token"')) throw new Error('no ID token');
}

export interface LoadResult {
  /** Completed operations per second over the measured window. */
  perSecond: number;
  latenciesMs: number[];
  errors: number;
  firstError?: string;
}

/**
 * `concurrency` workers, each taking its next operation from `take` when its last one ends,
 * until `take` has none left; the completed rate and latencies.
 */
async function runWorkers(
  concurrency: number,
  take: () => (() => Promise<void>) | undefined,
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let operation = take(); operation; operation = take()) {
      const t0 = performance.now();
      try {
        await operation();
        latenciesMs.push(performance.now() - t0);
      } catch (error) {
        errors += 1;
        firstError ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - started;
  return { perSecond: (latenciesMs.length * 1000) / elapsed, latenciesMs, errors, firstError };
}

/**
 * Runs `operation` from `concurrency` workers for `durationMs` (closed loop: each worker starts
 * its next operation when the last one ends) and reports the completed rate and latencies.
 */
export function closedLoop(
  concurrency: number,
  durationMs: number,
  operation: () => Promise<void>,
): Promise<LoadResult> {
  const end = performance.now() + durationMs;
  return runWorkers(concurrency, () => (performance.now() < end ? operation : undefined));
}

/** Runs `operation` once per item of `items`, `concurrency` at a time; rate and latencies. */
export function drain<T>(
  items: T[],
  concurrency: number,
  operation: (item: T) => Promise<void>,
): Promise<LoadResult> {
  let next = 0;
  return runWorkers(concurrency, () => {
    if (next >= items.length) return undefined;
    const item = items[next++] as T;
    return () => operation(item);
  });
}
