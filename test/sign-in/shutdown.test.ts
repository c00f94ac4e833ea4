/**
 * An instance that is shutting down hands its browsers over: /readyz turns not ready (so the
 * load balancer stops sending sign-ins), and open event streams are told to reconnect shortly,
 * which takes them to another instance.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, last } from '../helpers/browser.ts';
import { authorizationRequest, startHarness, type Harness } from '../helpers/harness.ts';

describe('graceful shutdown', { timeout: 15_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());

  it('ends open streams with a reconnect hint and reports not ready', async () => {
    const browser = new Browser();
    const request = await authorizationRequest(h.rp, { login_hint: 'demo' });
    const picture = last(await browser.follow(request.url.href));
    assert.equal(picture.status, 200);
    const events = picture.url.replace(/\/picture$/, '/events');
    const cookie = await browser.jar.getCookieString(events);
    const response = await fetch(events, { headers: { cookie } });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('event: state')) {
      const { value, done } = await reader.read();
      assert.ok(!done, 'the stream sends the current state first');
      text += value;
    }

    const closing = h.bridge.close();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await closing;
    assert.match(text, /retry: 1000\n\n$/, 'told to reconnect in a second, then ended');

    const ready = await fetch(`${h.issuer}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(((await ready.json()) as { reasons: string[] }).reasons, ['shutting down']);

    const late = await fetch(events, { headers: { cookie } });
    assert.equal(late.status, 200);
    assert.equal(await late.text(), 'retry: 1000\n\n', 'a new stream is sent elsewhere at once');
  });
});
