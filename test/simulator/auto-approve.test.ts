/**
 * The `autoApprove` fault knob: a phone that approves every sign-in the moment NoPass has
 * answered RequestAuthorization, as load tests and benchmarks need, against a real bridge.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, last } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startHarness,
  type Harness,
} from '../helpers/harness.ts';

describe('autoApprove', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());

  it('is off by default and shown among the knobs once set', async () => {
    const before = (await (await fetch(`${h.simulatorUrl}/control/faults`)).json()) as {
      autoApprove: boolean;
    };
    assert.equal(before.autoApprove, false);
    const set = await h.control('/control/faults', { autoApprove: true });
    assert.equal(((await set.json()) as { autoApprove: boolean }).autoApprove, true);
    const bad = await h.control('/control/faults', { autoApprove: 'yes please' });
    assert.equal(bad.status, 400);
  });

  it('approves at once: the relying party gets its code with nobody at the phone', async () => {
    await h.control('/control/faults', { autoApprove: true });
    for (let round = 0; round < 5; round += 1) {
      const browser = new Browser();
      const request = await authorizationRequest(h.rp, { login_hint: 'demo' });
      const hops = await browser.follow(request.url.href, RP_REDIRECT);
      const interaction = hops
        .map((hop) => /^(.*\/interaction\/[\w-]+)\/picture$/.exec(hop.url)?.[1])
        .find(Boolean);
      assert.ok(interaction, 'the picture page was shown');
      // The approval lands within moments; the no-script page then carries on by itself.
      let final = last(hops);
      for (let tries = 0; tries < 50 && !final.location?.startsWith(RP_REDIRECT); tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        final = last(await browser.follow(`${interaction}/picture`, RP_REDIRECT));
      }
      assert.ok(final.location?.startsWith(RP_REDIRECT), `round ${round} reached the RP`);
      assert.ok(new URL(final.location ?? '').searchParams.get('code'));
    }
    const calls = (await (await fetch(`${h.simulatorUrl}/control/calls`)).json()) as {
      op: string;
      status: number | null;
    }[];
    const verdicts = calls.filter((call) => call.op === 'AuthorizedUser');
    assert.ok(verdicts.length >= 5);
    assert.ok(verdicts.some((call) => call.status === 200));
    await h.control('/control/faults', { autoApprove: false });
  });
});
