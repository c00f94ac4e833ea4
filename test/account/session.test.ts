/**
 * The account page's own cookies over real HTTP, on a bare Koa app with a clock of the test's:
 * scoped to /account, signed, HttpOnly and SameSite=Lax, Secure with an https issuer even when
 * TLS ends in front of the bridge, and no longer honoured once expired or altered.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { ACCOUNT_SESSION_MS, accountCookies } from '../../src/account/session.ts';

interface Running {
  url: string;
  server: Server;
}

async function serve(secure: boolean, clock: { now: number }): Promise<Running> {
  const cookies = accountCookies({ secure, now: () => clock.now });
  const app = new Koa({ keys: ['account-session-test-key-long-enough-1'] });
  app.use((ctx) => {
    if (ctx.path === '/account/start') {
      cookies.startSession(ctx, 'ada', 'header.payload.signature');
      ctx.body = 'started';
      return;
    }
    if (ctx.path === '/account/flow') {
      cookies.saveFlow(ctx, { state: 'state-1', nonce: 'nonce-1', verifier: 'verifier-1' });
      ctx.body = 'saved';
      return;
    }
    if (ctx.path === '/account/take') {
      ctx.body = { flow: cookies.takeFlow(ctx, String(ctx.query.state)) ?? null };
      return;
    }
    ctx.body = { session: cookies.session(ctx) ?? null };
  });
  const server = createServer((req, res) => void app.callback()(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** `name=value` of each Set-Cookie, as a browser would send them back. */
function cookieHeader(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
}

async function session(url: string, cookie: string): Promise<unknown> {
  const response = await fetch(`${url}/account`, { headers: { cookie } });
  return ((await response.json()) as { session: unknown }).session;
}

describe('account page cookies', () => {
  const clock = { now: Date.UTC(2025, 0, 1) };
  let plain: Running;
  let tls: Running;

  before(async () => {
    plain = await serve(false, clock);
    tls = await serve(true, clock);
  });
  after(() => {
    plain.server.close();
    tls.server.close();
  });

  it('keeps the session in a signed, HttpOnly, Lax cookie scoped to /account', async () => {
    const started = await fetch(`${plain.url}/account/start`);
    const [value, signature] = started.headers.getSetCookie();
    assert.match(value ?? '', /^account_session=/);
    for (const attribute of ['path=/account', 'httponly', 'samesite=lax']) {
      assert.ok(value?.toLowerCase().includes(attribute), `${attribute} in ${value}`);
    }
    assert.ok(!value?.toLowerCase().includes('secure'), 'not Secure with an http issuer');
    assert.match(signature ?? '', /^account_session\.sig=/);

    assert.deepEqual(await session(plain.url, cookieHeader(started)), {
      sub: 'ada',
      idToken: 'header.payload.signature',
      expiresAt: clock.now + ACCOUNT_SESSION_MS,
    });
  });

  it('marks the cookies Secure with an https issuer, even over plain HTTP behind a proxy', async () => {
    const started = await fetch(`${tls.url}/account/start`);
    assert.equal(started.status, 200);
    for (const line of started.headers.getSetCookie()) {
      assert.ok(line.toLowerCase().includes('; secure'), line);
    }
    const flow = await fetch(`${tls.url}/account/flow`);
    assert.equal(flow.status, 200);
    assert.ok(flow.headers.getSetCookie().every((line) => line.toLowerCase().includes('; secure')));
  });

  it('honours no session past its expiry, nor an altered one', async () => {
    const started = await fetch(`${plain.url}/account/start`);
    const cookie = cookieHeader(started);
    const saved = clock.now;
    try {
      clock.now = saved + ACCOUNT_SESSION_MS - 1;
      assert.ok(await session(plain.url, cookie), 'still valid just before its end');
      clock.now = saved + ACCOUNT_SESSION_MS;
      assert.equal(await session(plain.url, cookie), null, 'expired');
    } finally {
      clock.now = saved;
    }

    const forged = Buffer.from(
      JSON.stringify({ sub: 'mallory', idToken: 'x', expiresAt: saved + ACCOUNT_SESSION_MS }),
    ).toString('base64url');
    const altered = cookie.replace(/account_session=[^;]+/, `account_session=${forged}`);
    assert.equal(await session(plain.url, altered), null, 'a changed value fails its signature');
  });

  it('hands a sign-in flow back once, for its own state only', async () => {
    const saved = await fetch(`${plain.url}/account/flow`);
    const cookie = cookieHeader(saved);
    const other = await fetch(`${plain.url}/account/take?state=state-2`, { headers: { cookie } });
    assert.deepEqual(await other.json(), { flow: null });
    const taken = await fetch(`${plain.url}/account/take?state=state-1`, { headers: { cookie } });
    assert.deepEqual(await taken.json(), {
      flow: { state: 'state-1', nonce: 'nonce-1', verifier: 'verifier-1' },
    });
    assert.match(taken.headers.getSetCookie()[0] ?? '', /^account_flow_state-1=;.*expires=/i);
  });
});
