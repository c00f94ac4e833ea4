/**
 * Signing out, end to end over real HTTP: RP-initiated logout with the confirmation page, the
 * back-channel logout tokens the relying parties receive (verified here against the bridge's
 * JWKS, as a relying party must), relying parties that fail or never answer, and
 * CloseAuthSession reaching the NoPass simulator for every approval behind the session, in
 * memory and in Redis mode.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import {
  approveAs,
  atRelyingParty,
  authorize,
  eventually,
  newUser,
  redeem,
  relyingParty,
  type TestClient,
} from '../helpers/flows.ts';
import { RP_CLIENT, RP_REDIRECT, startHarness, type Harness } from '../helpers/harness.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const AFTER_LOGOUT = 'http://127.0.0.1:65001/after-logout';

interface Received {
  path: string;
  /** The verified logout token, or why it did not verify. */
  token?: JWTPayload;
  header?: Record<string, unknown>;
  problem?: string;
}

/** A relying party's back-channel endpoint: verifies what arrives, then answers per path. */
class BackchannelReceiver {
  readonly received: Received[] = [];
  #server: Server | undefined;
  #hanging = new Set<IncomingMessage>();
  url = '';
  issuer = '';

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/hang') {
        // Never answers: the bridge must give up on its own.
        this.#hanging.add(req);
        this.received.push({ path });
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        void this.#verify(path, Buffer.concat(chunks).toString(), req).then((entry) => {
          this.received.push(entry);
          res.statusCode = path === '/fail' ? 500 : 200;
          res.end();
        });
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async #verify(path: string, body: string, req: IncomingMessage): Promise<Received> {
    if (req.method !== 'POST' || !req.headers['content-type']?.startsWith('application/x-www-')) {
      return { path, problem: `unexpected ${req.method} ${req.headers['content-type']}` };
    }
    const logoutToken = new URLSearchParams(body).get('logout_token');
    if (!logoutToken) return { path, problem: 'no logout_token' };
    try {
      const jwks = createRemoteJWKSet(new URL(`${this.issuer}/jwks`));
      const { payload, protectedHeader } = await jwtVerify(logoutToken, jwks, {
        issuer: this.issuer,
        typ: 'logout+jwt',
      });
      return { path, token: payload, header: { ...protectedHeader } };
    } catch (error) {
      return {
        path,
        problem: (error as Error).message,
        header: decodeProtectedHeader(logoutToken),
      };
    }
  }

  at(path: string): Received[] {
    return this.received.filter((entry) => entry.path === path);
  }

  async stop(): Promise<void> {
    for (const req of this.#hanging) req.socket.destroy();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }
}

function client(id: string, port: number, extra: Record<string, unknown>): TestClient {
  return {
    client_id: id,
    client_secret: `${id}-secret-that-is-long-enough-for-tests`,
    redirect_uris: [`http://127.0.0.1:${port}/callback`],
    post_logout_redirect_uris: [`http://127.0.0.1:${port}/after-logout`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    first_party: true,
    ...extra,
  };
}

interface Calls {
  op: string;
  direction: string;
  status: number | null;
  body: { authId?: string } | null;
}

async function closeCalls(h: Harness): Promise<Calls[]> {
  const response = await fetch(`${h.simulatorUrl}/control/calls`);
  const calls = (await response.json()) as Calls[];
  return calls.filter((call) => call.direction === 'received' && call.op === 'CloseAuthSession');
}

/** The confirmation page, then "Yes, sign me out"; returns the final redirect and its time. */
async function signOut(
  h: Harness,
  browser: Browser,
  idToken: string,
  state: string,
): Promise<{ status: number; location?: string; ms: number }> {
  const url = oidc.buildEndSessionUrl(h.rp, {
    id_token_hint: idToken,
    post_logout_redirect_uri: AFTER_LOGOUT,
    state,
  });
  const confirm = await browser.get(url.href);
  assert.equal(confirm.status, 200);
  assert.match(confirm.body, /Sign out\?/);
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)?.[1];
  const action = /<form[^>]*action="([^"]+)"/.exec(confirm.body)?.[1];
  assert.ok(xsrf && action, 'the confirmation carries the provider form');
  const started = Date.now();
  const done = await browser.post(new URL(action, h.issuer).href, { xsrf, logout: 'yes' });
  return { status: done.status, location: done.location, ms: Date.now() - started };
}

function logoutSuite(mode: 'memory' | 'redis'): void {
  describe(`sign-out (${mode})`, { timeout: 60_000 }, () => {
    let h: Harness;
    let redis: RedisServer | undefined;
    const receiver = new BackchannelReceiver();
    const clients: Record<string, TestClient> = {};

    before(async () => {
      await receiver.start();
      clients.failing = client('failing-rp', 65002, {
        backchannel_logout_uri: `${receiver.url}/fail`,
      });
      clients.hanging = client('hanging-rp', 65003, {
        backchannel_logout_uri: `${receiver.url}/hang`,
        backchannel_logout_session_required: true,
      });
      clients.quiet = client('quiet-rp', 65004, {});
      redis = mode === 'redis' ? await startRedis() : undefined;
      h = await startHarness({
        env: redis ? { REDIS_URL: redis.url } : {},
        clients: [
          {
            ...RP_CLIENT,
            backchannel_logout_uri: `${receiver.url}/rp`,
            backchannel_logout_session_required: true,
          },
          ...Object.values(clients),
        ],
      });
      receiver.issuer = h.issuer;
    });
    after(async () => {
      await h?.stop();
      await redis?.close();
      await receiver.stop();
    });

    it('notifies every relying party of the session, closes NoPass, and returns with state', async () => {
      const userId = await newUser(h, 'logout');
      const browser = new Browser();
      const first = await authorize(browser, h.rp, RP_REDIRECT);
      const { hop, authId } = await approveAs(h, browser, first, userId);
      const tokens = await redeem(first, hop);
      const sid = tokens.claims()?.sid;
      assert.ok(sid, 'the ID token carries sid for a client that asked for it');

      // The same browser signs in to three more relying parties without a new approval.
      for (const other of [clients.failing!, clients.hanging!, clients.quiet!]) {
        const started = await authorize(
          browser,
          await relyingParty(h, other),
          other.redirect_uris[0]!,
        );
        assert.ok(atRelyingParty(started, started.hop), 'signed in through the session');
        await redeem(started, started.hop);
      }
      receiver.received.length = 0;

      const done = await signOut(h, browser, tokens.id_token!, 'bye-42');
      assert.equal(done.status, 303, 'the sign-out completes');
      const back = new URL(done.location!);
      assert.equal(back.origin + back.pathname, AFTER_LOGOUT);
      assert.equal(back.searchParams.get('state'), 'bye-42');
      assert.ok(done.ms < 6000, `an unanswering relying party holds it up ${done.ms} ms only`);

      const [delivered] = receiver.at('/rp');
      assert.ok(delivered, 'the relying party received a logout token');
      assert.equal(delivered.problem, undefined, delivered.problem);
      const token = delivered.token!;
      assert.equal(token.aud, RP_CLIENT.client_id);
      assert.equal(token.sub, userId);
      assert.equal(token.sid, sid, 'the sid is the one of the ID token');
      assert.deepEqual(token.events, { [BACKCHANNEL_EVENT]: {} });
      assert.equal(token.nonce, undefined, 'a logout token never carries a nonce');
      assert.ok(token.jti && token.iat);

      const [failing] = receiver.at('/fail');
      assert.ok(failing?.token, 'the failing relying party was sent a valid token too');
      assert.equal(failing.token.sid, undefined, 'no sid where the client did not ask for it');
      assert.equal(receiver.at('/hang').length, 1, 'the silent relying party was called');
      assert.equal(receiver.received.length, 3, 'nothing for a client without a back-channel URI');

      await eventually(async () => {
        const calls = await closeCalls(h);
        const closed = calls.find((call) => call.body?.authId === authId);
        assert.ok(closed, 'CloseAuthSession reached NoPass');
        assert.equal(closed.status, 200);
      });
      const [auth] = (await (
        await fetch(`${h.simulatorUrl}/control/auths?userId=${userId}`)
      ).json()) as { authId: string; closed: boolean }[];
      assert.equal(auth?.closed, true, 'the simulator shows the authentication closed');

      // The session is gone: the next authorization asks for the user id again.
      const again = await authorize(browser, h.rp, RP_REDIRECT);
      assert.equal(again.hop.status, 200);
      assert.match(again.hop.body, /name="userId"/);
    });

    it('closes every approval of a session signed in twice', async () => {
      const userId = await newUser(h, 'twice');
      const browser = new Browser();
      const first = await authorize(browser, h.rp, RP_REDIRECT);
      const one = await approveAs(h, browser, first, userId);
      await redeem(first, one.hop);
      const second = await authorize(browser, h.rp, RP_REDIRECT, { prompt: 'login' });
      const two = await approveAs(h, browser, second, userId);
      const tokens = await redeem(second, two.hop);
      assert.notEqual(one.authId, two.authId);

      const done = await signOut(h, browser, tokens.id_token!, 'twice');
      assert.equal(done.status, 303);
      assert.equal(new URL(done.location!).searchParams.get('state'), 'twice');
      await eventually(async () => {
        const calls = await closeCalls(h);
        for (const authId of [one.authId, two.authId]) {
          const call = calls.find((entry) => entry.body?.authId === authId);
          assert.equal(call?.status, 200, 'CloseAuthSession for every approval of the session');
        }
      });
    });

    it('signs a deleted user out everywhere: logout tokens, NoPass closed', async () => {
      const userId = await newUser(h, 'deleted');
      const browser = new Browser();
      const started = await authorize(browser, h.rp, RP_REDIRECT);
      const { hop, authId } = await approveAs(h, browser, started, userId);
      const sid = (await redeem(started, hop)).claims()?.sid;
      receiver.received.length = 0;

      const deleted = await h.control(`/control/users/${userId}/delete`, {});
      assert.equal(((await deleted.json()) as { portalStatus: number }).portalStatus, 200);

      const [delivered] = receiver.at('/rp');
      assert.ok(delivered?.token, delivered?.problem ?? 'a logout token for the deleted user');
      assert.equal(delivered.token.sub, userId);
      assert.equal(delivered.token.sid, sid);
      await eventually(async () => {
        const call = (await closeCalls(h)).find((entry) => entry.body?.authId === authId);
        assert.equal(call?.status, 200, 'CloseAuthSession for the deleted user');
      });
      const again = await authorize(browser, h.rp, RP_REDIRECT);
      assert.match(again.hop.body, /name="userId"/, 'the browser is signed out');
    });

    it('signs out at once while NoPass fails or does not answer', async () => {
      for (const fault of [{ failNext: 10 }, { latencyMs: 5000 }]) {
        const userId = await newUser(h, 'nopass-down');
        const browser = new Browser();
        const started = await authorize(browser, h.rp, RP_REDIRECT);
        const { hop } = await approveAs(h, browser, started, userId);
        const tokens = await redeem(started, hop);

        await h.control('/control/faults', fault);
        const done = await signOut(h, browser, tokens.id_token!, 'anyway');
        await h.control('/control/faults', undefined, 'DELETE');
        assert.equal(done.status, 303, JSON.stringify(fault));
        assert.equal(new URL(done.location!).searchParams.get('state'), 'anyway');
        assert.ok(done.ms < 1500, `${JSON.stringify(fault)}: took ${done.ms} ms`);
      }
      const health = await fetch(`${h.issuer}/healthz`);
      assert.equal(health.status, 200);
    });
  });
}

logoutSuite('memory');
logoutSuite('redis');
