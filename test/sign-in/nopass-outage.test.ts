/**
 * A NoPass server that keeps failing, as people, a load balancer and a scraper see it: after
 * sustained HTTP 500s from the simulator the circuit opens, a sign-in gets the "try again" page
 * without any request reaching the simulator, /readyz says why it is not ready and /metrics
 * shows the open circuit. Refusals leave it closed. Once the server is healthy again, the
 * first sign-in after the reset time probes it, closes the circuit and signs in end to end.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser, last, type Hop } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startHarness,
  type Harness,
} from '../helpers/harness.ts';

const TRY_AGAIN = /The NoPass service is not answering right now\. Please try again in a moment\./;
const CIRCUIT_OPEN = 'NoPass server failing (circuit open)';
const OPENED = 'nopass circuit open: calls fail at once until a probe succeeds';
const CLOSED = 'nopass circuit closed: the server answers again';

interface Readiness {
  status: number;
  reasons: string[];
}

/** A sign-in with login_hint, followed until the bridge's page or the relying party. */
async function attempt(
  h: Harness,
  userId: string,
): Promise<{
  hop: Hop;
  browser: Browser;
  request: Awaited<ReturnType<typeof authorizationRequest>>;
}> {
  const browser = new Browser();
  const request = await authorizationRequest(h.rp, { login_hint: userId });
  const hop = last(await browser.follow(request.url.href));
  return { hop, browser, request };
}

/** RequestAuthorization calls that reached the simulator. */
async function received(h: Harness): Promise<number> {
  const calls = (await (await fetch(`${h.simulatorUrl}/control/calls`)).json()) as {
    direction: string;
    op: string;
  }[];
  return calls.filter((call) => call.direction === 'received' && call.op === 'RequestAuthorization')
    .length;
}

async function readiness(h: Harness): Promise<Readiness> {
  const response = await fetch(`${h.issuer}/readyz`);
  const body = (await response.json()) as { reasons: string[] };
  return { status: response.status, reasons: body.reasons };
}

/** Polls /readyz (bounded) until its status is `status`. */
async function readinessUntil(h: Harness, status: number): Promise<Readiness> {
  let answer = await readiness(h);
  for (let tries = 0; tries < 200 && answer.status !== status; tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    answer = await readiness(h);
  }
  return answer;
}

/** One sample of /metrics, or undefined when absent. */
async function metric(h: Harness, name: string, labels = ''): Promise<number | undefined> {
  const text = await (await fetch(`${h.issuer}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function logged(h: Harness, msg: string): Record<string, unknown>[] {
  return h.logs.filter((line) => line.msg === msg);
}

describe('NoPass outage', () => {
  it('opens the circuit on sustained 500s and then fails fast, unsent, not ready', async () => {
    const h = await startHarness({
      keepLogs: true,
      env: { NOPASS_CIRCUIT_MIN_CALLS: '3', NOPASS_CIRCUIT_RESET_MS: '600000' },
    });
    try {
      assert.equal((await readiness(h)).status, 200);
      assert.equal(await metric(h, 'nopass_bridge_nopass_circuit_state'), 0);
      const faults = await h.control('/control/faults', { failNext: 1000 });
      assert.equal(faults.status, 200);

      for (let call = 0; call < 3; call += 1) {
        const { hop } = await attempt(h, 'demo');
        assert.equal(hop.status, 503);
        assert.match(hop.body, TRY_AGAIN);
      }
      assert.equal(await received(h), 3);

      const notReady = await readinessUntil(h, 503);
      assert.equal(notReady.status, 503);
      assert.deepEqual(notReady.reasons, [CIRCUIT_OPEN]);

      const { hop } = await attempt(h, 'demo');
      assert.equal(hop.status, 503);
      assert.match(hop.body, TRY_AGAIN, 'the same clear page as for any outage');
      assert.match(hop.body, /name="userId"/, 'with the form to try again');
      assert.equal(await received(h), 3, 'no request reached the simulator');

      assert.equal(await metric(h, 'nopass_bridge_nopass_circuit_state'), 2);
      assert.equal(
        await metric(
          h,
          'nopass_bridge_nopass_circuit_rejected_total',
          '{operation="RequestAuthorization"}',
        ),
        1,
      );
      assert.equal(
        await metric(
          h,
          'nopass_bridge_nopass_request_duration_seconds_count',
          '{operation="RequestAuthorization",outcome="circuit_open"}',
        ),
        1,
      );
      assert.equal(logged(h, OPENED).length, 1, 'logged once, when it opened');
      assert.equal(logged(h, OPENED)[0]?.level, 'warn');
    } finally {
      await h.stop();
    }
  });

  it('stays closed while NoPass refuses: a refusal is an answer', async () => {
    const h = await startHarness({ keepLogs: true, env: { NOPASS_CIRCUIT_MIN_CALLS: '2' } });
    try {
      for (let call = 0; call < 4; call += 1) {
        const { hop } = await attempt(h, `nobody-${call}`);
        assert.equal(hop.status, 400);
        assert.match(hop.body, /NoPass could not start a sign-in for this user id/);
      }
      assert.equal(await received(h), 4);
      assert.deepEqual(await readiness(h), { status: 200, reasons: [] });
      assert.equal(await metric(h, 'nopass_bridge_nopass_circuit_state'), 0);

      const { hop } = await attempt(h, 'demo');
      assert.equal(hop.status, 200);
      assert.match(hop.url, /\/picture$/, 'the sign-in started');
      assert.equal(await received(h), 5);
      assert.equal(logged(h, OPENED).length, 0);
    } finally {
      await h.stop();
    }
  });

  it('closes after a probe once NoPass is back, and signs in end to end', async () => {
    const h = await startHarness({
      keepLogs: true,
      env: { NOPASS_CIRCUIT_MIN_CALLS: '2', NOPASS_CIRCUIT_RESET_MS: '300' },
    });
    try {
      // Two failures, then the simulator is healthy again.
      await h.control('/control/faults', { failNext: 2 });
      for (let call = 0; call < 2; call += 1) {
        assert.equal((await attempt(h, 'demo')).hop.status, 503);
      }
      assert.equal(logged(h, OPENED).length, 1, 'the circuit opened');

      // Half-open counts as ready, so that traffic comes and probes.
      assert.deepEqual(await readinessUntil(h, 200), { status: 200, reasons: [] });
      assert.equal(await metric(h, 'nopass_bridge_nopass_circuit_state'), 1);
      assert.equal(await received(h), 2);

      const { hop, browser, request } = await attempt(h, 'demo');
      assert.equal(hop.status, 200);
      assert.match(hop.url, /\/picture$/, 'the probe started the sign-in');
      assert.equal(await received(h), 3);
      assert.equal(logged(h, CLOSED).length, 1);
      assert.equal(logged(h, CLOSED)[0]?.level, 'info');
      assert.equal(await metric(h, 'nopass_bridge_nopass_circuit_state'), 0);
      assert.deepEqual(await readiness(h), { status: 200, reasons: [] });

      const [auth] = await h.auths('demo');
      assert.ok(auth, 'the simulator has the authentication');
      const approved = await h.control(`/control/auths/${auth.authId}/approve`);
      assert.equal(((await approved.json()) as { portalStatus: number }).portalStatus, 200);
      const back = last(await browser.follow(hop.url, RP_REDIRECT));
      const callback = back.location ?? '';
      assert.ok(callback.startsWith(RP_REDIRECT), `back at the relying party: ${back.status}`);
      const tokens = await oidc.authorizationCodeGrant(h.rp, new URL(callback), {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
      });
      assert.equal(tokens.claims()?.sub, 'demo');
    } finally {
      await h.stop();
    }
  });
});
