/**
 * How the callback endpoints take requests, whatever the operation: JSON only, bounded in size,
 * under the configured prefix, from allowed addresses, with JSON refusals and never a 500 for
 * bad input. And the routes after them (oidc-provider's) still get their bodies untouched.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createCallbackRouter } from '../../src/callbacks/index.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { SettingsError } from '../../src/settings/index.ts';
import { MemoryBus } from '../../src/state/memory/bus.ts';
import { MemoryStore } from '../../src/state/memory/store.ts';
import { captureLog } from '../nopass/canned-server.ts';
import { IMAGE, startHarness, type Harness } from './harness.ts';

const VERDICT = { authId: 'auth-1', isAuthorized: true };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harnessWithLogin(options?: Parameters<typeof startHarness>[0]): Promise<Harness> {
  h = await startHarness(options);
  await h.addLogin('auth-1');
  return h;
}

describe('content type and body', () => {
  const accepted = [
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON; Charset=UTF-8',
    'application/json-patch+json',
    'text/json',
  ];
  for (const type of accepted) {
    it(`accepts ${type}`, async () => {
      const harness = await harnessWithLogin();
      const reply = await harness.post('AuthorizedUser', VERDICT, { 'content-type': type });
      assert.equal(reply.status, 200);
    });
  }

  const refused = [
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/json; charset=iso-8859-1',
  ];
  for (const type of refused) {
    it(`refuses ${type} with 415 and applies nothing`, async () => {
      const harness = await harnessWithLogin();
      const reply = await harness.post('AuthorizedUser', VERDICT, { 'content-type': type });
      assert.equal(reply.status, 415);
      assert.equal(reply.body.error, 'unsupported_media_type');
      assert.equal((await harness.store.getLogin('auth-1'))?.verdict, 'waiting');
    });
  }

  it('refuses a body without a content type with 415', async () => {
    const harness = await harnessWithLogin();
    const response = await fetch(`${harness.base}/AuthorizedUser`, {
      method: 'POST',
      body: new Blob([JSON.stringify(VERDICT)]),
    });
    assert.equal(response.status, 415);
  });

  it('refuses a compressed body with 415', async () => {
    const harness = await harnessWithLogin();
    const reply = await harness.post('AuthorizedUser', VERDICT, { 'content-encoding': 'gzip' });
    assert.equal(reply.status, 415);
  });

  const badJson = [
    '{"authId": "auth-1", "isAuthorized": tru',
    '',
    'authId=auth-1',
    '{"a":1}{"b":2}',
  ];
  for (const text of badJson) {
    it(`refuses ${JSON.stringify(text)} as invalid JSON with 400`, async () => {
      const harness = await harnessWithLogin();
      const reply = await harness.post('AuthorizedUser', text);
      assert.equal(reply.status, 400);
      assert.equal(reply.body.error, 'invalid_json');
      assert.equal((await harness.store.getLogin('auth-1'))?.verdict, 'waiting');
    });
  }

  const notObjects = ['[]', 'null', '"auth-1"', '42', '[{"authId":"auth-1","isAuthorized":true}]'];
  for (const text of notObjects) {
    it(`refuses the JSON ${text} with 400`, async () => {
      const harness = await harnessWithLogin();
      const reply = await harness.post('AuthorizedUser', text);
      assert.equal(reply.status, 400);
      assert.equal(reply.body.error, 'invalid_request');
    });
  }

  it('refuses a body over 1 MiB with 413', async () => {
    const harness = await harnessWithLogin();
    const body = {
      authId: 'auth-1',
      image: IMAGE,
      nextChange: 1000,
      padding: 'x'.repeat(1_100_000),
    };
    const reply = await harness.post('UpdatePicture', body);
    assert.equal(reply.status, 413);
    assert.equal(reply.body.error, 'body_too_large');
    assert.equal((await harness.store.getLogin('auth-1'))?.pictureSeq, 1);
  });

  it('refuses a body nested deeper than any NoPass body with 400', async () => {
    const harness = await harnessWithLogin();
    const deep = '{"x":'.repeat(5000) + '1' + '}'.repeat(5000);
    const reply = await harness.post('AuthorizedUser', deep);
    assert.equal(reply.status, 400);
  });

  it('treats a __proto__ property as plain data', async () => {
    const harness = await harnessWithLogin();
    const reply = await harness.post(
      'AuthorizedUser',
      '{"__proto__": {"isAuthorized": true}, "authId": "auth-1"}',
    );
    assert.equal(reply.status, 400);
    assert.equal((await harness.store.getLogin('auth-1'))?.verdict, 'waiting');
  });
});

describe('routing', () => {
  it('answers an unknown operation with a JSON 404', async () => {
    h = await startHarness();
    for (const op of ['FetchEverything', 'UpdatePicture/extra', '']) {
      const reply = await h.post(op, {});
      assert.equal(reply.status, 404, op);
      assert.equal(reply.body.error, 'unknown_operation');
    }
  });

  it('matches operation names in any case, as ASP.NET does', async () => {
    const harness = await harnessWithLogin();
    const response = await fetch(`${harness.url}/API/portalcommunication/authorizeduser`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(VERDICT),
    });
    assert.equal(response.status, 200);
  });

  it('answers another method with 405 and Allow: POST', async () => {
    h = await startHarness();
    const response = await fetch(`${h.base}/UpdatePicture`);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
    assert.equal(((await response.json()) as { error: string }).error, 'method_not_allowed');
  });

  it('lives under NOPASS_CALLBACK_PREFIX and nowhere else', async () => {
    const harness = await harnessWithLogin({ settings: { callbackPrefix: '/hooks/9f2c' } });
    assert.equal(harness.base, `${harness.url}/hooks/9f2c/api/PortalCommunication`);
    assert.equal((await harness.post('AuthorizedUser', VERDICT)).status, 200);

    const outside = await fetch(`${harness.url}/api/PortalCommunication/AuthorizedUser`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(VERDICT),
    });
    assert.equal(outside.status, 404);

    // The secret part is compared as it is; the vendor's part in any letter case.
    const shouted = await fetch(
      `${harness.url}/HOOKS/9F2C/api/PortalCommunication/AuthorizedUser`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(VERDICT),
      },
    );
    assert.equal(shouted.status, 404);
    assert.notEqual((await harness.post('authorizeduser', VERDICT)).status, 404);
  });

  it('leaves the bodies of other routes unread', async () => {
    h = await startHarness({
      after: async (ctx) => {
        const chunks: Buffer[] = [];
        for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
        ctx.body = { received: Buffer.concat(chunks).toString('utf8') };
      },
    });
    const sent = JSON.stringify({ grant_type: 'authorization_code', code: 'abc' });
    const response = await fetch(`${h.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: sent,
    });
    assert.deepEqual(await response.json(), { received: sent });
  });
});

describe('source allow-list (NOPASS_CALLBACK_ALLOW)', () => {
  it('turns away callers outside the listed ranges', async () => {
    const harness = await harnessWithLogin({
      settings: { callbackAllow: ['10.0.0.0/8', '2001:db8::/32'] },
    });
    const reply = await harness.post('AuthorizedUser', VERDICT);
    assert.equal(reply.status, 403);
    assert.equal(reply.body.error, 'source_not_allowed');
    assert.equal((await harness.store.getLogin('auth-1'))?.verdict, 'waiting');
  });

  it('accepts callers inside a listed range or at a listed address', async () => {
    for (const allow of [['127.0.0.0/8'], ['192.0.2.1', '127.0.0.1']]) {
      const harness = await harnessWithLogin({ settings: { callbackAllow: allow } });
      assert.equal((await harness.post('AuthorizedUser', VERDICT)).status, 200, allow.join());
      await harness.close();
      h = undefined;
    }
  });

  it('stops start-up on an entry that is not an address or range', () => {
    for (const entry of ['10.0.0.0/33', 'localhost', '10.0.0.0/8/1', '10.0.0.0/']) {
      assert.throws(
        () =>
          createCallbackRouter({
            store: new MemoryStore(),
            bus: new MemoryBus(),
            settings: { callbackAllow: [entry], callbackPrefix: '' } as never,
            log: captureLog().log,
            now: Date.now,
            metrics: createMetrics({ defaultMetrics: false }),
          }),
        (error: unknown) =>
          error instanceof SettingsError && error.setting === 'NOPASS_CALLBACK_ALLOW',
        entry,
      );
    }
  });
});

describe('failures inside the bridge', () => {
  it('answer a generic JSON 500 that reveals nothing, and are logged as errors', async () => {
    const harness = await harnessWithLogin({
      store: (now) => {
        const store = new MemoryStore(now);
        store.settleLogin = () => Promise.reject(new Error('redis at 10.1.2.3:6379 refused'));
        return store;
      },
    });
    const reply = await harness.post('AuthorizedUser', VERDICT);
    assert.equal(reply.status, 500);
    assert.deepEqual(Object.keys(reply.body).sort(), ['error', 'error_description']);
    assert.equal(reply.body.error, 'server_error');
    assert.ok(!JSON.stringify(reply.body).includes('10.1.2.3'));

    const line = harness.logs.lines().at(-1);
    assert.equal(line?.level, 'error');
    assert.equal(line?.callback_op, 'AuthorizedUser');
  });
});
