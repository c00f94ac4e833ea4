/**
 * The NoPass client against a canned server over real HTTP: what it sends (method, path,
 * content type, bearer token, body fields), what it makes of every kind of answer, and what it
 * logs. Each failure must arrive as the typed error the interaction flow relies on.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  NoPassCredentialsRejected,
  NoPassRefused,
  NoPassUnavailable,
  PortalNotRegistered,
  type BridgeError,
} from '../../src/http/errors.ts';
import { createNoPassClient, type PortalCredentials } from '../../src/nopass/client.ts';
import type { NoPassClient } from '../../src/nopass/types.ts';
import { answer, captureLog, startCannedServer, type CannedServer } from './canned-server.ts';
import { pngBase64 } from './pictures.ts';

const PORTAL: PortalCredentials = { portalId: 'portal-7f3a', authToken: 'tok-SECRET-e91b2c' };
const IMAGE = pngBase64();
const STARTED = { authId: 'auth-0001', image: IMAGE, nextChange: 30000 };

let server: CannedServer;
let client: NoPassClient;
let logs: ReturnType<typeof captureLog>;
let portal: PortalCredentials | undefined;

before(async () => {
  server = await startCannedServer();
});
after(() => server.close());
beforeEach(() => {
  server.received.length = 0;
  server.reply = answer(200, { errors: [], result: STARTED });
  portal = PORTAL;
  logs = captureLog();
  client = createNoPassClient({
    baseUrl: server.url,
    credentials: () => Promise.resolve(portal),
    timeoutMs: 300,
    log: logs.log,
  });
});

/** Runs `call`, expects it to fail with `type`, checks nothing secret is in the description. */
async function failure<T extends BridgeError>(
  call: Promise<unknown>,
  type: new (...args: never[]) => T,
): Promise<T> {
  const error = await call.then(
    () => assert.fail('expected the call to fail'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  for (const secret of [PORTAL.authToken, server.url, IMAGE.slice(0, 24)]) {
    assert.ok(!error.description.includes(secret), 'description leaks a secret');
    assert.ok(!(error.detail ?? '').includes(secret), 'detail leaks a secret');
  }
  return error;
}

describe('RequestAuthorization', () => {
  it('sends a JSON-patch POST with the bearer token and the guide field names', async () => {
    const started = await client.requestAuthorization({ userId: 'alice' });

    assert.deepEqual(started, STARTED);
    assert.equal(server.received.length, 1);
    const [request] = server.received;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, '/api/UserAuthentication/RequestAuthorization');
    assert.equal(request?.headers['content-type'], 'application/json-patch+json');
    assert.equal(request?.headers.authorization, `Bearer ${PORTAL.authToken}`);
    assert.deepEqual(JSON.parse(request?.body ?? ''), {
      portalId: PORTAL.portalId,
      userId: 'alice',
    });
  });

  it('sends social only when asked for a social network sign-in', async () => {
    await client.requestAuthorization({ userId: 'bob', social: 1 });
    assert.deepEqual(JSON.parse(server.received[0]?.body ?? ''), {
      portalId: PORTAL.portalId,
      userId: 'bob',
      social: 1,
    });
  });

  it('keeps a path in the base URL', async () => {
    const prefixed = createNoPassClient({
      baseUrl: `${server.url}/nopass/`,
      credentials: () => Promise.resolve(PORTAL),
      timeoutMs: 300,
      log: logs.log,
    });
    await prefixed.requestAuthorization({ userId: 'alice' });
    assert.equal(server.received[0]?.path, '/nopass/api/UserAuthentication/RequestAuthorization');
  });

  it('reads loginUrl inside result (the guide) and beside it (the sample)', async () => {
    const loginUrl = 'https://nopass.example/social/login?x=1';
    server.reply = answer(200, { errors: [], result: { ...STARTED, loginUrl } });
    assert.equal((await client.requestAuthorization({ userId: 'a' })).loginUrl, loginUrl);

    server.reply = answer(200, { errors: [], result: STARTED, loginUrl });
    assert.equal((await client.requestAuthorization({ userId: 'a' })).loginUrl, loginUrl);

    server.reply = answer(200, {
      errors: [],
      result: { ...STARTED, loginUrl: '' },
      loginUrl: null,
    });
    assert.equal((await client.requestAuthorization({ userId: 'a' })).loginUrl, undefined);
  });

  it('accepts nextChange as digits, a missing errors member, and PascalCase', async () => {
    server.reply = answer(200, { result: { ...STARTED, nextChange: '15000' } });
    assert.equal((await client.requestAuthorization({ userId: 'a' })).nextChange, 15000);

    server.reply = answer(200, {
      Errors: null,
      Result: { AuthId: 'auth-2', Image: IMAGE, NextChange: 1000 },
    });
    assert.deepEqual(await client.requestAuthorization({ userId: 'a' }), {
      authId: 'auth-2',
      image: IMAGE,
      nextChange: 1000,
    });
  });

  it('turns an errors array into NoPassRefused, with HTTP 200 or 400', async () => {
    const errors = [{ code: 'USER_NOT_FOUND', message: 'No such user' }];
    for (const status of [200, 400]) {
      server.reply = answer(status, { errors, result: null });
      const error = await failure(client.requestAuthorization({ userId: 'x' }), NoPassRefused);
      assert.equal(error.httpStatus, status);
      assert.equal(error.vendorCode, 'USER_NOT_FOUND');
      assert.equal(error.vendorMessage, 'No such user');
      assert.equal(error.status, 400);
    }
  });

  it('turns a 4xx with an envelope but no errors into NoPassRefused', async () => {
    server.reply = answer(409, { errors: [], result: null });
    const error = await failure(client.requestAuthorization({ userId: 'x' }), NoPassRefused);
    assert.equal(error.httpStatus, 409);
    assert.equal(error.vendorCode, undefined);
  });

  for (const status of [401, 403]) {
    it(`treats HTTP ${status} as rejected portal credentials, an operator's problem`, async () => {
      server.reply = answer(status, { errors: [{ code: 'Unauthorized', message: 'no' }] });
      const error = await failure(
        client.requestAuthorization({ userId: 'x' }),
        NoPassCredentialsRejected,
      );
      assert.equal(error.status, 503);
      assert.doesNotMatch(error.description, /user id/, 'the user is not told to fix their id');
      assert.ok(
        logs.lines().some((line) => line.level === 'error'),
        'logged at error level',
      );
    });
  }

  const unreadable: [string, ReturnType<typeof answer>, RegExp][] = [
    ['a 500', answer(500, { errors: [{ code: 'E', message: 'boom' }] }), /HTTP 500/],
    ['a 502 HTML page', answer(502, '<html>bad gateway</html>', 'text/html'), /HTTP 502/],
    ['an HTML page with 200', answer(200, '<!doctype html><p>maintenance', 'text/html'), /HTML/],
    ['truncated JSON', answer(200, '{"errors":[],"result":{"authId":"a'), /truncated/],
    ['an empty body', answer(200, ''), /empty/],
    ['JSON that is not the envelope', answer(200, { status: 'ok' }), /not the NoPass envelope/],
    ['a JSON array', answer(200, [1, 2]), /not the NoPass envelope/],
    ['errors of the wrong shape', answer(200, { errors: 'bad', result: null }), /envelope/],
  ];
  for (const [name, reply, detail] of unreadable) {
    it(`turns ${name} into NoPassUnavailable`, async () => {
      server.reply = reply;
      const error = await failure(client.requestAuthorization({ userId: 'x' }), NoPassUnavailable);
      assert.match(error.detail ?? '', detail);
      assert.equal(error.status, 503);
    });
  }

  it('does not follow a redirect (the bearer token stays with the NoPass server)', async () => {
    server.reply = (response) => {
      response.writeHead(307, { location: `${server.url}/elsewhere` });
      response.end();
    };
    const error = await failure(client.requestAuthorization({ userId: 'x' }), NoPassUnavailable);
    assert.match(error.detail ?? '', /HTTP 307/);
    assert.equal(server.received.length, 1);
  });

  it('gives up after the timeout when the server hangs', async () => {
    server.reply = () => {
      // Never answers; the server's closeAllConnections ends it.
    };
    const started = Date.now();
    const error = await failure(client.requestAuthorization({ userId: 'x' }), NoPassUnavailable);
    const took = Date.now() - started;
    assert.match(error.detail ?? '', /no answer within 300 ms/);
    assert.ok(took >= 250 && took < 2000, `took ${took} ms`);
    assert.ok(error.cause instanceof Error, 'the original error is kept as cause');
    assert.equal(server.received.length, 1, 'not retried');
  });

  it('refuses an answer over the size cap, with or without Content-Length', async () => {
    const big = JSON.stringify({ errors: [], result: { ...STARTED, padding: 'x'.repeat(3e6) } });
    server.reply = answer(200, big);
    let error = await failure(client.requestAuthorization({ userId: 'x' }), NoPassUnavailable);
    assert.match(error.detail ?? '', /answer over \d+ bytes/);

    server.reply = (response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 30; i += 1) response.write('x'.repeat(100_000));
      response.end();
    };
    error = await failure(client.requestAuthorization({ userId: 'x' }), NoPassUnavailable);
    assert.match(error.detail ?? '', /answer over \d+ bytes/);
  });

  const invalidResults: [string, unknown, RegExp][] = [
    [
      'an image that is not a PNG',
      { ...STARTED, image: Buffer.from('GIF89a').toString('base64') },
      /image/,
    ],
    ['an image that is not base64', { ...STARTED, image: 'not a picture' }, /image/],
    ['an empty authId', { ...STARTED, authId: '' }, /authId/],
    ['an authId over 256 characters', { ...STARTED, authId: 'a'.repeat(257) }, /authId/],
    ['nextChange of zero', { ...STARTED, nextChange: 0 }, /nextChange/],
    ['a fractional nextChange', { ...STARTED, nextChange: 1.5 }, /nextChange/],
    ['a loginUrl that is not http', { ...STARTED, loginUrl: 'javascript:alert(1)' }, /loginUrl/],
    ['no result', null, /invalid result/],
  ];
  for (const [name, result, detail] of invalidResults) {
    it(`turns a result with ${name} into NoPassUnavailable`, async () => {
      server.reply = answer(200, { errors: [], result });
      const error = await failure(client.requestAuthorization({ userId: 'x' }), NoPassUnavailable);
      assert.match(error.detail ?? '', detail);
    });
  }

  it('is not retried after a server error', async () => {
    server.reply = answer(503, '');
    await failure(client.requestAuthorization({ userId: 'x' }), NoPassUnavailable);
    assert.equal(server.received.length, 1);
  });
});

describe('without portal credentials', () => {
  it('fails with PortalNotRegistered and calls nobody', async () => {
    portal = undefined;
    await failure(client.requestAuthorization({ userId: 'x' }), PortalNotRegistered);
    await failure(client.closeAuthSession('auth-1'), PortalNotRegistered);
    assert.equal(server.received.length, 0);
  });
});

describe('PreRegisterUser', () => {
  const request = {
    userId: 'carol',
    clientIP: '203.0.113.9',
    redirectUrl: 'https://bridge.example/register/done',
    data: { givenName: 'Carol', email: 'carol@example.org' },
  };

  it('sends the guide fields and returns the otp and register link', async () => {
    const result = { otp: 'otp-123', registerLink: 'https://nopass.example/r/abc' };
    server.reply = answer(200, { errors: [], result });

    assert.deepEqual(await client.preRegisterUser(request), result);
    const [sent] = server.received;
    assert.equal(sent?.path, '/api/UserRegistration/PreRegisterUser');
    assert.equal(sent?.headers.authorization, `Bearer ${PORTAL.authToken}`);
    assert.equal(sent?.headers['content-type'], 'application/json-patch+json');
    assert.deepEqual(JSON.parse(sent?.body ?? ''), {
      portalId: PORTAL.portalId,
      userId: 'carol',
      clientIP: '203.0.113.9',
      redirectUrl: 'https://bridge.example/register/done',
      socialNetwork: '',
      data: { givenName: 'Carol', email: 'carol@example.org' },
    });
  });

  it('refuses a register link the browser must not be sent to', async () => {
    server.reply = answer(200, {
      errors: [],
      result: { otp: 'otp-1', registerLink: 'javascript:alert(1)' },
    });
    const error = await failure(client.preRegisterUser(request), NoPassUnavailable);
    assert.match(error.detail ?? '', /registerLink/);
  });

  it('is not retried', async () => {
    server.reply = answer(503, '');
    await failure(client.preRegisterUser(request), NoPassUnavailable);
    assert.equal(server.received.length, 1);
  });
});

describe('DeleteInitialPortal', () => {
  it('sends portalId and userId and returns the deletion session id', async () => {
    server.reply = answer(200, { errors: [], result: 'deletion-42' });
    assert.equal(await client.deleteInitialPortal('dave'), 'deletion-42');
    const [sent] = server.received;
    assert.equal(sent?.path, '/api/UserDelete/DeleteInitialPortal');
    assert.equal(sent?.headers.authorization, `Bearer ${PORTAL.authToken}`);
    assert.deepEqual(JSON.parse(sent?.body ?? ''), { portalId: PORTAL.portalId, userId: 'dave' });
  });

  it('is not retried', async () => {
    server.reply = answer(500, '');
    await failure(client.deleteInitialPortal('dave'), NoPassUnavailable);
    assert.equal(server.received.length, 1);
  });
});

describe('CloseAuthSession', () => {
  it('sends portalId and authId and returns the result', async () => {
    server.reply = answer(200, { errors: [], result: 'closed' });
    assert.equal(await client.closeAuthSession('auth-9'), 'closed');
    const [sent] = server.received;
    assert.equal(sent?.path, '/api/UserAuthentication/CloseAuthSession');
    assert.equal(sent?.headers.authorization, `Bearer ${PORTAL.authToken}`);
    assert.deepEqual(JSON.parse(sent?.body ?? ''), { portalId: PORTAL.portalId, authId: 'auth-9' });
  });

  it('is retried once after a server error', async () => {
    let calls = 0;
    server.reply = (response) => {
      calls += 1;
      const reply = calls === 1 ? answer(503, '') : answer(200, { errors: [], result: 'closed' });
      reply(response, server.received[0]!);
    };
    assert.equal(await client.closeAuthSession('auth-9'), 'closed');
    assert.equal(server.received.length, 2);
  });

  it('gives up after one retry', async () => {
    server.reply = answer(503, '');
    await failure(client.closeAuthSession('auth-9'), NoPassUnavailable);
    assert.equal(server.received.length, 2);
  });
});

describe('logging', () => {
  it('logs each call with its operation, outcome and duration, and no secret', async () => {
    await client.requestAuthorization({ userId: 'alice' });
    server.reply = answer(200, { errors: [{ code: 'LOCKED', message: 'locked' }], result: null });
    await client.requestAuthorization({ userId: 'alice' }).catch(() => undefined);
    server.reply = answer(500, '');
    await client.closeAuthSession('auth-0001').catch(() => undefined);

    const lines = logs.lines();
    assert.deepEqual(
      lines.map((line) => [line.nopass_op, line.outcome]),
      [
        ['RequestAuthorization', 'ok'],
        ['RequestAuthorization', 'nopass_refused'],
        ['CloseAuthSession', 'nopass_unavailable'],
      ],
    );
    for (const line of lines) assert.equal(typeof line.duration_ms, 'number');
    assert.equal(lines[1]?.vendor_code, 'LOCKED');

    const text = logs.text();
    for (const secret of [PORTAL.authToken, IMAGE.slice(0, 24), 'auth-0001']) {
      assert.ok(!text.includes(secret), `log holds ${secret}`);
    }
  });
});
