/**
 * What an operator reads in the logs: secrets never appear, every line of a request carries its
 * request id, each request ends with one access line, and one sign-in can be followed from the
 * first redirect through the NoPass callback to the picture page that heard of it.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { chooseLogFormat, createLogger, logDestination } from '../../src/log.ts';
import { readSettings, SettingsError } from '../../src/settings/index.ts';
import { Browser, last } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startHarness,
  type Harness,
} from '../helpers/harness.ts';
import { startBridgeProcess } from '../helpers/processes.ts';
import { freePort } from '../helpers/redis.ts';

type Line = Record<string, unknown>;

/** Values that must never be printed, each under a field name that marks it as secret. */
const SECRETS = {
  token: 'tok-5e1b9c0d',
  access_token: 'at-7a6c2f11',
  refresh_token: 'rt-90d1ab3e',
  id_token: 'eyJhbGciOiJSUzI1NiJ9.id-token-body.sig',
  code: 'authcode-3f8e77',
  code_verifier: 'verifier-0c9a55d2',
  sCode: 'SCode-Secret-991',
  authToken: 'portal-auth-token-42ab',
  otp: 'otp-771245',
  cookie: '_session=cookie-value-b3c1',
  image: 'iVBORw0KGgo-picture-bytes',
  email: 'person@example.org',
  client_secret: 'client-secret-xyz-123',
};

function capture(level = 'debug'): { log: ReturnType<typeof createLogger>; text: () => string } {
  let text = '';
  const log = createLogger(level, { write: (line: string) => void (text += line) });
  return { log, text: () => text };
}

describe('log redaction', () => {
  it('never prints tokens, codes, the S-code, authToken, otp, cookies, pictures or e-mail', () => {
    const { log, text } = capture();
    const cause = Object.assign(new Error('upstream failed'), {
      options: { headers: { Authorization: `Bearer ${SECRETS.authToken}` } },
    });
    log.child({ request_id: 'r-1', sCode: SECRETS.sCode }).warn(
      {
        ...SECRETS,
        // The same names in the casing a NoPass callback may use, and nested the way request
        // bodies, headers and claims are.
        body: { AuthToken: SECRETS.authToken, SCode: SECRETS.sCode, Otp: SECRETS.otp },
        req: { headers: { cookie: SECRETS.cookie, authorization: `Bearer ${SECRETS.token}` } },
        res: { headers: { 'set-cookie': [`_interaction=${SECRETS.cookie}`] } },
        user: { claims: { email: SECRETS.email }, pictures: [{ image: SECRETS.image }] },
        err: new Error('wrapped', { cause }),
        status: 200,
      },
      'everything at once',
    );
    const output = text();
    for (const [name, value] of Object.entries(SECRETS)) {
      assert.ok(!output.includes(value), `${name} must not appear in ${output}`);
    }
    const line = JSON.parse(output) as Line;
    assert.equal(line.request_id, 'r-1', 'harmless fields stay');
    assert.equal(line.status, 200);
    assert.equal(line.code, '[redacted]');
    assert.equal((line.body as Line).AuthToken, '[redacted]');
    assert.match(String((line.err as Line).message), /wrapped: upstream failed/);
  });

  it('leaves the objects it was given untouched', () => {
    const { log } = capture();
    const fields = { nested: { token: SECRETS.token } };
    log.info(fields, 'x');
    assert.equal(fields.nested.token, SECRETS.token);
  });

  it('redacts readable lines too', async () => {
    const output = new PassThrough();
    let text = '';
    output.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const log = createLogger('info', await logDestination('pretty', output, false));
    log.info({ authToken: SECRETS.authToken, path: '/readyz' }, 'readable');
    assert.match(text, /INFO.*readable/);
    assert.match(text, /path: "\/readyz"/);
    assert.ok(!text.includes(SECRETS.authToken));
    assert.throws(() => JSON.parse(text), 'not JSON');
  });
});

describe('LOG_FORMAT', () => {
  it('is json or pretty, and anything else stops start-up naming it', () => {
    const read = (env: Record<string, string>) => readSettings(env, () => 'x');
    assert.equal(read({}).logFormat, undefined);
    assert.equal(read({ LOG_FORMAT: 'pretty' }).logFormat, 'pretty');
    assert.equal(read({ LOG_FORMAT: 'JSON' }).logFormat, 'json');
    assert.throws(
      () => read({ LOG_FORMAT: 'xml' }),
      (error: unknown) => error instanceof SettingsError && error.setting === 'LOG_FORMAT',
    );
  });

  it('defaults to readable lines only for the quickstart at a terminal', () => {
    assert.equal(chooseLogFormat(undefined, true, true), 'pretty');
    assert.equal(chooseLogFormat(undefined, true, false), 'json');
    assert.equal(chooseLogFormat(undefined, false, true), 'json');
    assert.equal(chooseLogFormat('json', true, true), 'json');
    assert.equal(chooseLogFormat('pretty', false, false), 'pretty');
  });

  it('a started bridge writes JSON lines to a pipe, and readable lines with LOG_FORMAT=pretty', async () => {
    for (const format of ['', 'pretty']) {
      const port = await freePort();
      const bridge = await startBridgeProcess(
        { PORT: String(port), SIMULATOR_PORT: '0', LOG_FORMAT: format, NODE_ENV: '' },
        /open http:\/\/localhost/,
      );
      await bridge.stop();
      const lines = bridge.output().trim().split('\n');
      if (format === '') {
        for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), line);
      } else {
        assert.match(lines.join('\n'), /WARN.*QUICKSTART MODE/);
        assert.throws(() => JSON.parse(lines[0] ?? ''));
      }
    }
  });
});

describe('request and sign-in fields', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ keepLogs: true });
  });
  after(() => h.stop());

  it('follows one sign-in by request id, interaction uid and auth_ref, across the callback', async () => {
    const userId = 'demo';
    // Only what this sign-in's requests wrote: start-up lines belong to no request.
    const before = h.logs.length;
    const browser = new Browser();
    const request = await authorizationRequest(h.rp, { login_hint: userId });
    const hops = await browser.follow(request.url.href);
    const picture = last(hops);
    assert.equal(picture.status, 200);
    const interaction = picture.url.replace(/\/picture$/, '');
    const uid = interaction.split('/').at(-1)!;

    // The picture page's event stream is open when the verdict arrives.
    const cookie = await browser.jar.getCookieString(`${interaction}/events`);
    const stream = await fetch(`${interaction}/events`, {
      headers: { cookie, accept: 'text/event-stream', 'x-request-id': 'stream-req-1' },
    });
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    await reader.read();
    const auths = await h.auths(userId);
    assert.equal((await h.control(`/control/auths/${auths[0]!.authId}/approve`)).status, 200);
    let seen = '';
    for (let reads = 0; reads < 20 && !seen.includes('"approved"'); reads += 1) {
      const chunk = await reader.read();
      if (chunk.done) break;
      seen += chunk.value;
    }
    assert.match(seen, /"status":"approved"/);
    await reader.cancel();

    const callback = last(await browser.follow(`${interaction}/complete`, RP_REDIRECT));
    const tokens = await oidc.authorizationCodeGrant(h.rp, new URL(callback.location!), {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    assert.ok(tokens.id_token);
    // Access lines are written when a response has closed.
    await new Promise((resolve) => setTimeout(resolve, 50));

    const logs = h.logs.slice(before);
    const withoutId = logs.filter((line) => typeof line.request_id !== 'string');
    assert.deepEqual(withoutId, [], 'every line during requests carries a request id');

    const accessLines = logs.filter((line) => line.msg === 'request');
    const requestIds = new Set(logs.map((line) => line.request_id));
    assert.equal(accessLines.length, requestIds.size, 'one access line per request');
    for (const line of accessLines) {
      assert.equal(typeof line.method, 'string');
      assert.equal(typeof line.status, 'number');
      assert.equal(typeof line.duration_ms, 'number');
      assert.doesNotMatch(String(line.path), /\?/, 'no query string (codes, tokens) in paths');
    }
    const token = accessLines.find((line) => line.path === '/token');
    assert.equal(token?.status, 200);
    assert.equal(token?.method, 'POST');

    const started = logs.find((line) => line.msg === 'sign-in started');
    assert.ok(started, 'the start is logged');
    assert.equal(started.interaction_uid, uid);
    const ref = started.auth_ref;
    assert.match(String(ref), /^[\w-]{12}$/);
    assert.ok(!JSON.stringify(logs).includes(auths[0]!.authId), 'the raw authId never appears');

    const ofSignIn = logs.filter((line) => line.interaction_uid === uid);
    const interactionPages = accessLines.filter((line) =>
      String(line.path).startsWith(`/interaction/${uid}`),
    );
    for (const line of interactionPages) {
      assert.equal(line.interaction_uid, uid, `${String(line.path)} names the interaction`);
      assert.equal(line.auth_ref, ref, `${String(line.path)} names the authId's hash`);
    }
    assert.ok(
      ofSignIn.some((line) => line.msg === 'interaction started'),
      'provider events too',
    );
    assert.ok(ofSignIn.some((line) => line.msg === 'sign-in approved'));

    const verdict = logs.find(
      (line) => line.msg === 'nopass callback' && line.callback_op === 'AuthorizedUser',
    );
    assert.ok(verdict);
    assert.equal(verdict.auth_ref, ref);
    assert.equal(verdict.interaction_uid, uid);
    assert.equal(verdict.verdict, 'approved');
    const heard = logs.find((line) => line.msg === 'login event received');
    assert.ok(heard, 'the stream logs the event it heard');
    assert.equal(heard.request_id, 'stream-req-1');
    assert.equal(heard.callback_request_id, verdict.request_id, 'joined to the callback');
    assert.equal(heard.auth_ref, ref);
    assert.equal(heard.interaction_uid, uid);
  });
});
