/**
 * The rate limit on the NoPass callbacks, over real HTTP: a source address calling more often
 * than RATE_LIMIT_CALLBACKS_PER_IP allows gets 429 JSON with Retry-After, before its body is
 * read, and the refusal is counted by limit and by callback result.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../helpers/harness.ts';

describe('callbacks rate limit', () => {
  let h: Harness;
  before(async () => {
    // Unregistered: no portal registration callbacks are counted before the test's own.
    h = await startHarness({ unregistered: true, env: { RATE_LIMIT_CALLBACKS_PER_IP: '3' } });
  });
  after(() => h.stop());

  const call = (body: string): Promise<Response> =>
    fetch(`${h.issuer}/api/PortalCommunication/UpdatePicture`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body,
    });

  it('answers the fourth call from one address with 429 rate_limited', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const answer = await call('{}');
      assert.equal(answer.status, 400, 'an invalid body is refused as usual');
      await answer.body?.cancel();
    }

    // Not even read: a body that is no JSON at all gets the same answer.
    const refused = await call('not json');
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.match(refused.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await refused.json()) as Record<string, unknown>;
    assert.equal(body.error, 'rate_limited');
    assert.equal(typeof body.error_description, 'string');

    const metrics = await (await fetch(`${h.issuer}/metrics`)).text();
    assert.match(metrics, /^nopass_bridge_rate_limited_total\{limit="callbacks_ip"\} 1$/m);
    const counted =
      'nopass_bridge_nopass_callbacks_total{operation="UpdatePicture",result="rate_limited"} 1';
    assert.ok(metrics.split('\n').includes(counted), 'the callback counted as rate_limited');
  });
});
