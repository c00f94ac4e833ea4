/**
 * /metrics as a Prometheus scraper sees it: sign-ins counted by how they ended, NoPass calls in
 * both directions, open picture streams, the time people take to answer, the process's own
 * figures, and the optional bearer token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser, last } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startHarness,
  type Harness,
} from '../helpers/harness.ts';

const TOKEN = 'metrics-token-for-tests-0123';

/** The value of one sample in Prometheus's text format, or undefined when absent. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',').filter(Boolean);
    if (wanted.length !== present.length || !wanted.every((pair) => present.includes(pair))) {
      continue;
    }
    return Number(match[3]);
  }
  return undefined;
}

async function scrape(h: Harness): Promise<string> {
  const response = await fetch(`${h.issuer}/metrics`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
  return response.text();
}

/** Browser → /auth (with login_hint) → picture page; returns the interaction URL. */
async function startSignIn(
  h: Harness,
  browser: Browser,
  userId: string,
): Promise<{ interaction: string; request: Awaited<ReturnType<typeof authorizationRequest>> }> {
  const request = await authorizationRequest(h.rp, { login_hint: userId });
  const picture = last(await browser.follow(request.url.href));
  assert.equal(picture.status, 200, picture.body);
  return { interaction: picture.url.replace(/\/picture$/, ''), request };
}

async function onlyAuth(h: Harness, userId: string): Promise<string> {
  const auths = await h.auths(userId);
  assert.equal(auths.length, 1);
  return auths[0]!.authId;
}

/** Opens a picture page's event stream and reads its first message. */
async function openStream(browser: Browser, interaction: string) {
  const url = `${interaction}/events`;
  const cookie = await browser.jar.getCookieString(url);
  const response = await fetch(url, { headers: { cookie, accept: 'text/event-stream' } });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  await reader.read();
  return {
    /** Reads until `text` has been seen (bounded). */
    async until(text: string): Promise<void> {
      let seen = '';
      for (let reads = 0; reads < 50 && !seen.includes(text); reads += 1) {
        const chunk = await reader.read();
        if (chunk.done) break;
        seen += chunk.value;
      }
      assert.ok(seen.includes(text), `stream said ${seen}`);
    },
    close: () => reader.cancel(),
  };
}

describe('metrics', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { METRICS_TOKEN: TOKEN, PICTURE_GRACE_MS: '0' } });
    for (const userId of ['m-ok', 'm-no', 'm-cancel', 'm-late']) {
      assert.equal((await h.control('/control/users', { userId })).status, 200);
    }
  });
  after(() => h.stop());

  it('refuses a scrape without the token, or with another', async () => {
    const bare = await fetch(`${h.issuer}/metrics`);
    assert.equal(bare.status, 401);
    assert.match(bare.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.doesNotMatch(await bare.text(), /nopass_bridge_/);
    const wrong = await fetch(`${h.issuer}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}x` },
    });
    assert.equal(wrong.status, 401);
  });

  it('takes the authentication scheme in any letter case', async () => {
    const lower = await fetch(`${h.issuer}/metrics`, {
      headers: { authorization: `bearer ${TOKEN}` },
    });
    assert.equal(lower.status, 200);
    assert.match(await lower.text(), /nopass_bridge_/);
  });

  it('counts sign-ins by outcome, NoPass calls both ways, streams and answer times', async () => {
    // Completed, with its picture page open while the approval arrives.
    const okBrowser = new Browser();
    const ok = await startSignIn(h, okBrowser, 'm-ok');
    const stream = await openStream(okBrowser, ok.interaction);
    const during = await scrape(h);
    assert.equal(sample(during, 'nopass_bridge_event_streams_open'), 1, 'one page is waiting');
    await h.control(`/control/auths/${await onlyAuth(h, 'm-ok')}/approve`);
    await stream.until('"approved"');
    await stream.close();
    const callback = last(await okBrowser.follow(`${ok.interaction}/complete`, RP_REDIRECT));
    await oidc.authorizationCodeGrant(h.rp, new URL(callback.location!), {
      pkceCodeVerifier: ok.request.verifier,
      expectedState: ok.request.state,
      expectedNonce: ok.request.nonce,
    });

    // Refused on the phone.
    await startSignIn(h, new Browser(), 'm-no');
    await h.control(`/control/auths/${await onlyAuth(h, 'm-no')}/refuse`, { reason: 'no' });

    // Cancelled on the picture page.
    const cancelBrowser = new Browser();
    const cancelled = await startSignIn(h, cancelBrowser, 'm-cancel');
    assert.equal((await cancelBrowser.post(`${cancelled.interaction}/cancel`, {})).status, 303);

    // Expired while its page watched: one short picture, no next one, no grace.
    await h.control('/control/faults', { nextChangeMs: 300, maxPictures: 1 });
    const lateBrowser = new Browser();
    const late = await startSignIn(h, lateBrowser, 'm-late');
    const lateStream = await openStream(lateBrowser, late.interaction);
    await lateStream.until('"expired"');
    await lateStream.close();
    await h.control('/control/faults', { nextChangeMs: null, maxPictures: null });

    // A scrape sees streams closed only once the bridge has noticed the disconnects.
    let text = await scrape(h);
    for (let tries = 0; tries < 20 && sample(text, 'nopass_bridge_event_streams_open') !== 0;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      text = await scrape(h);
      tries += 1;
    }

    assert.equal(sample(text, 'nopass_bridge_sign_ins_started_total'), 4);
    const ended = (outcome: string) =>
      sample(text, 'nopass_bridge_sign_ins_ended_total', { outcome });
    assert.equal(ended('completed'), 1);
    assert.equal(ended('refused'), 1);
    assert.equal(ended('cancelled'), 1);
    assert.equal(ended('expired'), 1);
    assert.equal(sample(text, 'nopass_bridge_event_streams_open'), 0);

    assert.equal(
      sample(text, 'nopass_bridge_nopass_callbacks_total', {
        operation: 'AuthorizedUser',
        result: 'ok',
      }),
      2,
    );
    assert.equal(
      sample(text, 'nopass_bridge_nopass_request_duration_seconds_count', {
        operation: 'RequestAuthorization',
        outcome: 'ok',
      }),
      4,
    );
    assert.equal(sample(text, 'nopass_bridge_verdict_seconds_count', { verdict: 'approved' }), 1);
    assert.equal(sample(text, 'nopass_bridge_verdict_seconds_count', { verdict: 'refused' }), 1);
    assert.equal(sample(text, 'nopass_bridge_oidc_events_total', { event: 'grant.success' }), 1);
    assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0, 'process metrics');
    assert.ok(sample(text, 'nodejs_eventloop_lag_seconds') !== undefined, 'event loop lag');
  });

  it('counts callbacks that are refused, by their result', async () => {
    const response = await fetch(`${h.issuer}/api/PortalCommunication/AuthorizedUser`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ authId: 'never-started', isAuthorized: true }),
    });
    assert.ok(response.status >= 400 && response.status < 500);
    const { error } = (await response.json()) as { error: string };
    const text = await scrape(h);
    assert.equal(
      sample(text, 'nopass_bridge_nopass_callbacks_total', {
        operation: 'AuthorizedUser',
        result: error,
      }),
      1,
    );
  });
});
