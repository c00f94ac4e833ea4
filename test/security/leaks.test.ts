/**
 * Nothing secret and no stack trace leaves the bridge where it should not. One bridge runs with
 * known secrets (admin id, S-code, cookie keys, metrics token) and its log lines kept; the test
 * drives what handles secrets and what fails: portal registration with a wrong and the right
 * admin id, callbacks with bad bodies full of secret-looking values, a sign-in through to
 * access, ID and refresh tokens and their misuse, a registration with an e-mail address, and
 * NoPass answering 500s, HTML and cut-off JSON. Every error answer the bridge gave (recorded by
 * wrapping fetch) and every log line it wrote is then searched for each secret and for the
 * marks of a stack trace, and each finding is reported with what leaked and where.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import {
  approveAs,
  authorize,
  newUser,
  redeem,
  relyingParty,
  type TestClient,
} from '../helpers/flows.ts';
import { RP_CLIENT, RP_REDIRECT, startHarness, type Harness } from '../helpers/harness.ts';
import { backToRelyingParty, finishInApp, startRegistration } from '../registration/helpers.ts';

const ADMIN_ID = 'leak-admin-7d21c';
const S_CODE = 'LeakSCode-8842X-Q';
const COOKIE_KEY = 'leak-cookie-key-0123456789abcdef-a1';
const METRICS_TOKEN = 'leak-metrics-token-5f0c2a9e';
const EMAIL = 'ada.leak-check@example.org';

const OFFLINE: TestClient = {
  client_id: 'leak-offline',
  client_secret: 'leak-offline-secret-that-is-long-enough',
  redirect_uris: ['http://127.0.0.1:65021/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  first_party: true,
};

/** A secret the scan looks for; some are by design shown to their owner, never logged. */
interface Secret {
  name: string;
  value: string;
  /** Whether an error answer must not carry it either (an e-mail may be echoed in its form). */
  inAnswers: boolean;
}

/** One answer of the bridge, as the client saw it. */
interface Exchange {
  where: string;
  status: number;
  headers: [string, string][];
  body: string;
}

const STACK_MARKS: [string, RegExp][] = [
  ['a stack frame', /\n\s+at /],
  ['a source position', /\.[cm]?[jt]s:\d+:\d+/],
  ['node:internal', /node:internal/],
];

/** Every string inside a parsed log line, with the field path it sits at. */
function stringsOf(value: unknown, path = ''): [string, string][] {
  if (typeof value === 'string') return [[path, value]];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    stringsOf(inner, path ? `${path}.${key}` : key),
  );
}

function excerpt(text: string, needle: string): string {
  const at = text.indexOf(needle);
  return JSON.stringify(text.slice(Math.max(0, at - 80), at + needle.length + 40));
}

/** What in `text` should not be there: each secret found, and each mark of a stack trace. */
function leaksIn(text: string, where: string, candidates: Secret[]): string[] {
  const found: string[] = [];
  for (const { name, value } of candidates) {
    if (text.includes(value)) found.push(`${name} in ${where}: ${excerpt(text, value)}`);
  }
  for (const [mark, pattern] of STACK_MARKS) {
    const match = pattern.exec(text);
    if (match) found.push(`${mark} in ${where}: ${excerpt(text, match[0])}`);
  }
  return found;
}

/**
 * Wraps fetch so every answer from the bridge at `origin()` is kept (event streams without
 * their body); returns what puts fetch back.
 */
function recordAnswers(origin: () => string | undefined, into: Promise<Exchange>[]): () => void {
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const response = await realFetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    const bridge = origin();
    if (bridge !== undefined && url.startsWith(bridge)) {
      const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
      const streamed = response.headers.get('content-type')?.startsWith('text/event-stream');
      const copy = streamed ? undefined : response.clone();
      const headers: [string, string][] = [];
      response.headers.forEach((value, name) => headers.push([name, value]));
      into.push(
        (async () => ({
          where: `${method} ${url}`,
          status: response.status,
          headers,
          body: copy ? await copy.text() : '',
        }))(),
      );
    }
    return response;
  };
  return () => {
    globalThis.fetch = realFetch;
  };
}

/** The secrets of a run: `add` ignores values too short to be told apart from chance. */
function secretList(): {
  list: Secret[];
  add: (name: string, value?: string, inAnswers?: boolean) => void;
} {
  const list: Secret[] = [];
  const add = (name: string, value?: string, inAnswers = true): void => {
    if (value === undefined || value.length < 8) return;
    if (!list.some((known) => known.value === value)) list.push({ name, value, inAnswers });
  };
  return { list, add };
}

function isErrorAnswer(exchange: Exchange): boolean {
  return exchange.status >= 400 || exchange.body.includes('Error code:');
}

/**
 * Every secret and stack trace in the error answers and the log lines, each as "what, where:
 * excerpt". Values of cookies being set are not looked for in their own Set-Cookie header.
 */
function findLeaks(
  secrets: Secret[],
  exchanges: Exchange[],
  logs: Record<string, unknown>[],
): string[] {
  const findings: string[] = [];
  const inAnswers = secrets.filter((known) => known.inAnswers);
  const inSetCookie = inAnswers.filter((known) => !known.name.startsWith('cookie '));
  for (const exchange of exchanges.filter(isErrorAnswer)) {
    const at = `${exchange.status} ${exchange.where}`;
    findings.push(...leaksIn(exchange.body, `the body of ${at}`, inAnswers));
    for (const [name, value] of exchange.headers) {
      const candidates = name === 'set-cookie' ? inSetCookie : inAnswers;
      findings.push(...leaksIn(value, `header ${name} of ${at}`, candidates));
    }
  }
  for (const line of logs) {
    for (const [path, text] of stringsOf(line)) {
      findings.push(...leaksIn(text, `${path} of log line "${String(line.msg)}"`, secrets));
    }
  }
  return findings;
}

function callback(
  h: Harness,
  op: string,
  body: string,
  type = 'application/json',
): Promise<Response> {
  return fetch(`${h.issuer}/api/PortalCommunication/${op}`, {
    method: 'POST',
    headers: { 'content-type': type, accept: 'application/json' },
    body,
  });
}

describe('secrets and stack traces', { timeout: 180_000 }, () => {
  let h: Harness;
  const { list: secrets, add: secret } = secretList();
  const pending: Promise<Exchange>[] = [];
  let restoreFetch = (): void => {};

  /** The authIds and registration otps the simulator handed out, as secrets. */
  async function learnFromSimulator(): Promise<void> {
    const auths = (await (await fetch(`${h.simulatorUrl}/control/auths`)).json()) as {
      authId: string;
    }[];
    for (const auth of auths) secret('authId', auth.authId);
    const registrations = (await (
      await fetch(`${h.simulatorUrl}/control/registrations`)
    ).json()) as { otp: string }[];
    for (const registration of registrations) secret('registration otp', registration.otp);
  }

  before(async () => {
    // Undefined until the harness has started.
    restoreFetch = recordAnswers(() => (h as Harness | undefined)?.issuer, pending);
    h = await startHarness({
      keepLogs: true,
      unregistered: true,
      clients: [RP_CLIENT, OFFLINE],
      env: {
        NOPASS_ADMIN_ID: ADMIN_ID,
        NOPASS_S_CODE: S_CODE,
        COOKIE_KEYS: COOKIE_KEY,
        METRICS_TOKEN,
        // Every NoPass failure below reaches the client, rather than the open circuit.
        NOPASS_CIRCUIT_MIN_CALLS: '1000',
      },
    });
    secret('NOPASS_ADMIN_ID', ADMIN_ID);
    secret('NOPASS_S_CODE', S_CODE);
    secret('COOKIE_KEYS', COOKIE_KEY);
    secret('METRICS_TOKEN', METRICS_TOKEN);
    secret('client secret', RP_CLIENT.client_secret);
    secret('client secret', OFFLINE.client_secret);
  });

  after(async () => {
    restoreFetch();
    await h.stop();
  });

  it('registers the portal after refusing a wrong admin id', async () => {
    const wrongAdmin = 'leak-wrong-admin-55e1';
    secret('a wrong admin id', wrongAdmin);
    const refused = await callback(
      h,
      'ConfirmPreRegistration',
      JSON.stringify({ adminId: wrongAdmin, r: 7 }),
    );
    assert.equal(refused.status, 400);

    const webUrl = `${h.issuer}${h.settings.callbackPrefix}`;
    const wrong = await h.control('/control/portals', {
      webUrl,
      adminId: wrongAdmin,
      sCode: S_CODE,
    });
    assert.equal(wrong.status, 502, 'the bridge refused the registration');
    const right = await h.control('/control/portals', { webUrl, adminId: ADMIN_ID, sCode: S_CODE });
    assert.equal(right.status, 200, await right.clone().text());
    const { authToken } = (await right.json()) as { authToken: string };
    secret('portal authToken', authToken);

    // Registration is closed now: neither call hands out the S-code or takes a token.
    const again = await callback(
      h,
      'ConfirmPreRegistration',
      JSON.stringify({ adminId: ADMIN_ID, r: 1 }),
    );
    assert.equal(again.status, 409);
    const forged = 'leak-forged-auth-token-1c9d';
    secret('a forged authToken', forged);
    const replaced = await callback(
      h,
      'ConfirmRegistration',
      JSON.stringify({ portalId: 'p-1', authToken: forged, settings: S_CODE }),
    );
    assert.equal(replaced.status, 409);
  });

  it('refuses callbacks with bad bodies without repeating what they carried', async () => {
    const otp = 'leak-otp-31337-aa';
    const token = 'leak-auth-token-90210';
    const authId = 'leak-auth-id-4242-zz';
    for (const [name, value] of [
      ['an otp in a bad body', otp],
      ['an authToken in a bad body', token],
      ['an authId in a bad body', authId],
    ] as const) {
      secret(name, value);
    }
    secret('an e-mail in a bad body', 'leak.bad-body@example.org', false);
    const bad: [string, string, string?][] = [
      ['AuthorizedUser', JSON.stringify({ authId, isAuthorized: 'yes', reason: otp })],
      ['UpdatePicture', JSON.stringify({ authId, image: `not-a-png-${token}`, nextChange: otp })],
      [
        'ValidateUserRegistration',
        JSON.stringify({ otp, email: 'leak.bad-body@example.org', givenName: 5, login: [token] }),
      ],
      ['ValidateUserRegistration', JSON.stringify({ otp, OTP: token })],
      ['ConfirmUserRegistration', JSON.stringify({ otp, registerLink: 42 })],
      ['ConfirmRegistration', JSON.stringify({ portalId: 7, authToken: token })],
      [
        'UpdateUser',
        JSON.stringify({
          userId: 'someone',
          portalId: token,
          updates: { email: { newValue: 'leak.bad-body@example.org', forbiddenStore: false } },
        }),
      ],
      ['DeleteUser', JSON.stringify({ userId: otp, portalId: token })],
      ['AuthorizedUser', `{"authId":"${authId}","isAuthorized":tr`],
      ['ValidateUserRegistration', `{"otp":"${otp}"`, 'text/plain'],
      [
        'ValidateUserRegistration',
        `otp=${otp}&authToken=${token}`,
        'application/x-www-form-urlencoded',
      ],
      ['NoSuchOperation', JSON.stringify({ authToken: token, otp })],
    ];
    for (const [op, body, type] of bad) {
      const answer = await callback(h, op, body, type);
      assert.ok(answer.status >= 400 && answer.status < 500, `${op}: ${answer.status}`);
    }
  });

  it('signs in through to tokens, then answers their misuse with errors', async () => {
    const rp = await relyingParty(h, OFFLINE);
    const userId = await newUser(h, 'leak');
    const browser = new Browser();
    const started = await authorize(browser, rp, OFFLINE.redirect_uris[0]!, {
      scope: 'openid profile offline_access',
    });
    const { hop, authId } = await approveAs(h, browser, started, userId);
    secret('authId', authId);
    const code = new URL(hop.location!).searchParams.get('code') ?? undefined;
    secret('authorization code', code);
    const tokens = await redeem(started, hop);
    secret('access token', tokens.access_token);
    secret('ID token', tokens.id_token);
    const refreshToken = tokens.refresh_token;
    assert.ok(refreshToken, 'a refresh token was issued');
    secret('refresh token', refreshToken);

    const refreshed = await oidc.refreshTokenGrant(rp, refreshToken);
    secret('access token', refreshed.access_token);
    secret('refresh token', refreshed.refresh_token);
    await assert.rejects(() => oidc.refreshTokenGrant(rp, refreshToken), 'rotated out');
    // A tampered access token, the refresh token at the wrong client, the code again (which
    // revokes what it was exchanged for).
    await assert.rejects(() => oidc.fetchUserInfo(rp, `${tokens.access_token}x`, userId));
    const stranger = await oidc.discovery(
      new URL(h.issuer),
      RP_CLIENT.client_id,
      'wrong-secret',
      undefined,
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    await assert.rejects(() => oidc.refreshTokenGrant(stranger, refreshToken));
    await assert.rejects(() => oidc.tokenIntrospection(stranger, tokens.access_token));
    await assert.rejects(() => redeem(started, hop));

    // Tokens where they do not belong: in an end-session request for an unknown address, and
    // an authorization request naming an unknown client.
    const endSession = new URL(`${h.issuer}/session/end`);
    endSession.searchParams.set('id_token_hint', tokens.id_token!);
    endSession.searchParams.set('post_logout_redirect_uri', 'https://elsewhere.example/');
    assert.equal((await browser.get(endSession.href)).status, 400);
    const auth = new URL(`${h.issuer}/auth`);
    auth.searchParams.set('client_id', `unknown-${code}`);
    auth.searchParams.set('login_hint', refreshToken);
    assert.equal((await browser.get(auth.href)).status, 400);

    // The finished sign-in's pages, and the metrics without and with a wrong token.
    const interaction = started.hop.url;
    assert.ok((await browser.get(`${interaction}/complete`)).status >= 400);
    assert.equal((await fetch(`${h.issuer}/metrics`)).status, 401);
    const wrongMetrics = await fetch(`${h.issuer}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}` },
    });
    assert.equal(wrongMetrics.status, 401);
  });

  it('registers a user with an e-mail address', async () => {
    const browser = new Browser();
    secret('e-mail address', EMAIL, false);
    const userId = `leak-reg-${process.pid % 1000}`;
    const started = await startRegistration(h, browser, {
      userId,
      given_name: 'Ada',
      family_name: 'Check',
      email: EMAIL,
      phone_number: '+41 44 123 45 67',
    });
    secret('registration otp', started.otp);
    const back = await finishInApp(browser, started.registerLink);
    const tokens = await backToRelyingParty(h, browser, back, started.request);
    secret('ID token', tokens.id_token);
    secret('access token', tokens.access_token);
    assert.equal(tokens.claims()?.email, EMAIL);

    // NoPass changes the e-mail address (kept, then one it must not keep), then deletes the user.
    const newEmail = 'ada.changed-leak@example.org';
    secret('e-mail address', newEmail, false);
    for (const forbiddenStore of [false, true]) {
      const update = await h.control(`/control/users/${userId}/update`, {
        updates: { email: { newValue: newEmail, forbiddenStore } },
      });
      assert.equal(((await update.json()) as { portalStatus: number }).portalStatus, 200);
    }
    const wrongPortal = await h.control(`/control/users/${userId}/update`, {
      updates: { email: { newValue: newEmail, forbiddenStore: false } },
      sendPortalId: 'leak-not-this-portal',
    });
    assert.equal(((await wrongPortal.json()) as { portalStatus: number }).portalStatus, 400);
    const deleted = await h.control(`/control/users/${userId}/delete`, {});
    assert.equal(((await deleted.json()) as { portalStatus: number }).portalStatus, 200);

    // The otp again, now used, with a body the schema refuses.
    const replay = await callback(
      h,
      'ValidateUserRegistration',
      JSON.stringify({ otp: started.otp, email: { address: EMAIL } }),
    );
    assert.equal(replay.status, 400);
  });

  it('shows NoPass failures without their details', async () => {
    const faults: Record<string, unknown>[] = [
      { failNext: 1 },
      { malformedNext: 'html' },
      { malformedNext: 'truncated' },
      { malformedNext: 'envelope' },
    ];
    for (const fault of faults) {
      assert.equal((await h.control('/control/faults', fault)).status, 200);
      const userId = await newUser(h, 'leakf');
      const browser = new Browser();
      const started = await authorize(browser, h.rp, RP_REDIRECT);
      const sent = await browser.post(`${started.hop.url}/login`, { userId });
      assert.ok(sent.status >= 400, `${JSON.stringify(fault)}: ${sent.status}`);
      await h.control('/control/faults', undefined, 'DELETE');
    }
    // A registration whose PreRegisterUser reply is cut off (the otp was in it).
    assert.equal((await h.control('/control/faults', { malformedNext: 'truncated' })).status, 200);
    const browser = new Browser();
    const login = (await authorize(browser, h.rp, RP_REDIRECT)).hop;
    await browser.get(`${login.url}/register`);
    const sent = await browser.post(`${login.url}/register`, {
      userId: `leak-cut-${process.pid % 1000}`,
      email: 'leak.cut@example.org',
    });
    secret('e-mail address', 'leak.cut@example.org', false);
    assert.ok(sent.status >= 400, `a cut-off PreRegisterUser reply: ${sent.status}`);
    await h.control('/control/faults', undefined, 'DELETE');
    await learnFromSimulator();
  });

  it('let no secret and no stack trace out, in answers or in logs', async (t) => {
    // Access lines are written when a response has closed.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const exchanges = await Promise.all(pending);
    for (const exchange of exchanges) {
      for (const [name, value] of exchange.headers) {
        if (name !== 'set-cookie') continue;
        const [, key = '', content = ''] = /^([^=]+)=([^;]*)/.exec(value) ?? [];
        // The interaction cookies hold the uid, which is in every page's address anyway; an
        // anti-forgery token is in its own form's page by design, and must only stay out of logs.
        if (key === '_interaction' || key === '_interaction_resume') continue;
        secret(`cookie ${key}`, content, !key.includes('csrf'));
      }
    }

    const errors = exchanges.filter(isErrorAnswer).length;
    assert.ok(errors >= 25, `the flows produced error answers (${errors})`);
    assert.ok(h.logs.length >= 100, `the bridge logged (${h.logs.length} lines)`);
    const findings = findLeaks(secrets, exchanges, h.logs);
    // The recording sees what passes through: tokens and codes where they belong.
    for (const name of ['authorization code', 'access token', 'ID token', 'refresh token']) {
      const { value } = secrets.find((known) => known.name === name) ?? { value: '\u0000' };
      const seen = exchanges.some(
        (exchange) =>
          exchange.body.includes(value) ||
          exchange.headers.some(([, header]) => header.includes(value)),
      );
      assert.ok(seen, `the ${name} was in an answer the recording kept`);
    }

    const names = [...new Set(secrets.map((known) => known.name))];
    t.diagnostic(`${secrets.length} secrets of ${names.length} kinds: ${names.join(', ')}`);
    assert.ok(names.length >= 15, `secrets of many kinds were in play: ${names.join(', ')}`);
    const scanned = `${errors} error answers and ${h.logs.length} log lines`;
    assert.deepEqual(findings.slice(0, 40), [], `${findings.length} leak(s) over ${scanned}`);
  });
});

describe('secrets with a portal registration set by the operator', { timeout: 60_000 }, () => {
  const authToken = 'leak-configured-auth-token-6b1e';
  let h: Harness;
  const { list: secrets, add: secret } = secretList();
  const pending: Promise<Exchange>[] = [];
  let restoreFetch = (): void => {};

  before(async () => {
    // Undefined until the harness has started.
    restoreFetch = recordAnswers(() => (h as Harness | undefined)?.issuer, pending);
    // NoPass (the simulator) never heard of this portal, so it refuses every call it signs.
    h = await startHarness({
      keepLogs: true,
      unregistered: true,
      env: {
        NOPASS_ADMIN_ID: ADMIN_ID,
        NOPASS_S_CODE: S_CODE,
        NOPASS_PORTAL_ID: 'leak-configured-portal',
        NOPASS_AUTH_TOKEN: authToken,
        NOPASS_CIRCUIT_MIN_CALLS: '1000',
      },
    });
    secret('NOPASS_AUTH_TOKEN', authToken);
    secret('NOPASS_ADMIN_ID', ADMIN_ID);
    secret('NOPASS_S_CODE', S_CODE);
  });

  after(async () => {
    restoreFetch();
    await h.stop();
  });

  it('keeps the authToken out of answers and logs when NoPass refuses it', async () => {
    const browser = new Browser();
    const started = await authorize(browser, h.rp, RP_REDIRECT);
    const signIn = await browser.post(`${started.hop.url}/login`, { userId: 'demo' });
    assert.ok(signIn.status >= 400, `the sign-in cannot start: ${signIn.status}`);
    await browser.get(`${started.hop.url}/register`);
    const registration = await browser.post(`${started.hop.url}/register`, {
      userId: 'leak-configured-user',
    });
    assert.ok(registration.status >= 400, `nor a registration: ${registration.status}`);
    const replaced = await callback(
      h,
      'ConfirmRegistration',
      JSON.stringify({ portalId: 'p-2', authToken: 'leak-replacement-token-77' }),
    );
    assert.equal(replaced.status, 409);
    secret('a replacement authToken', 'leak-replacement-token-77');

    await new Promise((resolve) => setTimeout(resolve, 100));
    const exchanges = await Promise.all(pending);
    assert.ok(exchanges.filter(isErrorAnswer).length >= 3, 'error answers were recorded');
    const findings = findLeaks(secrets, exchanges, h.logs);
    assert.deepEqual(findings, [], `${findings.length} leak(s)`);
  });
});
