/**
 * NoPass callbacks that come twice, late, contradicting each other, or naming another sign-in,
 * judged by what a person and a relying party notice: an approved sign-in gives its browser
 * exactly one code, for the user it started with, and nothing else ever gives a code.
 * The simulator plays the phone; repeated or out-of-place callbacks are sent straight to the
 * bridge, as a NoPass server would send them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Browser, last, type Hop } from '../helpers/browser.ts';
import {
  atRelyingParty,
  authorize,
  eventually,
  newUser,
  redeem,
  type Started,
} from '../helpers/flows.ts';
import { RP_REDIRECT, startHarness, type Harness } from '../helpers/harness.ts';
import { palettePngBase64 } from '../nopass/pictures.ts';

/** A picture no simulator authentication shows. */
const OTHER_PICTURE = palettePngBase64(6, 6);

/** A sign-in of one user in one browser, on its picture page. */
interface Attempt {
  started: Started;
  /** The interaction's address, `…/interaction/<uid>`. */
  interaction: string;
  authId: string;
  image: string;
}

/** What a callback sent straight to the bridge was answered. */
interface Answer {
  status: number;
  error?: string;
}

/** POSTs a callback to the bridge as the NoPass server does. */
async function callback(
  h: Harness,
  op: 'AuthorizedUser' | 'UpdatePicture',
  body: Record<string, unknown>,
): Promise<Answer> {
  const url = `${h.issuer}${h.settings.callbackPrefix}/api/PortalCommunication/${op}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const error = text ? (JSON.parse(text) as { error?: string }).error : undefined;
  return { status: response.status, ...(error === undefined ? {} : { error }) };
}

function assertRefused(answer: Answer, error: string, what: string): void {
  assert.ok(answer.status >= 400 && answer.status < 500, `${what}: got ${answer.status}`);
  assert.equal(answer.error, error, what);
}

/** Sends a verdict through the simulator's phone; returns the bridge's status. */
async function phone(h: Harness, authId: string, approve: boolean): Promise<number> {
  const action = approve ? 'approve' : 'refuse';
  const body = approve ? undefined : { reason: 'Not me' };
  const response = await h.control(`/control/auths/${authId}/${action}`, body);
  assert.equal(response.status, 200, `the simulator sent the ${action}`);
  return ((await response.json()) as { portalStatus: number }).portalStatus;
}

/** Sends the user id form of `interaction` (again); returns the new authentication. */
async function sendUserId(
  h: Harness,
  browser: Browser,
  interaction: string,
  userId: string,
): Promise<{ authId: string; image: string }> {
  const before = new Set((await h.auths(userId)).map((auth) => auth.authId));
  const submitted = await browser.post(`${interaction}/login`, { userId });
  assert.equal(submitted.status, 303, submitted.body);
  assert.equal(submitted.location, `${interaction}/picture`);
  const fresh = (await h.auths(userId)).filter((auth) => !before.has(auth.authId));
  assert.equal(fresh.length, 1, 'one new authentication waits at NoPass');
  return { authId: fresh[0]!.authId, image: fresh[0]!.image };
}

/** The browser goes from the relying party to the picture page of a new sign-in. */
async function startAttempt(
  h: Harness,
  browser: Browser,
  userId: string,
  params: Record<string, string> = {},
): Promise<Attempt> {
  const started = await authorize(browser, h.rp, RP_REDIRECT, params);
  const interaction = started.hop.url;
  assert.match(interaction, /\/interaction\/[\w-]+$/, `on the user id form, got ${interaction}`);
  const { authId, image } = await sendUserId(h, browser, interaction, userId);
  const page = await browser.get(`${interaction}/picture`);
  assert.equal(page.status, 200);
  assert.ok(page.body.includes(image), 'the picture page shows this authentication');
  return { started, interaction, authId, image };
}

/** Every hop of the browser following `url` towards the relying party. */
function walk(browser: Browser, url: string): Promise<Hop[]> {
  return browser.follow(url, RP_REDIRECT);
}

/** Asserts that none of `hops` reached the relying party; returns the last one. */
function noCode(hops: Hop[], what: string): Hop {
  const reached = hops.filter((hop) => hop.location?.startsWith(RP_REDIRECT));
  assert.deepEqual(
    reached.map((hop) => hop.location),
    [],
    `${what}: the browser must not be sent back to the relying party`,
  );
  return last(hops);
}

/** The browser follows its picture page to the relying party, exactly once. */
async function finish(browser: Browser, attempt: Attempt): Promise<Hop> {
  const hops = await walk(browser, `${attempt.interaction}/picture`);
  const reached = hops.filter((hop) => atRelyingParty(attempt.started, hop));
  assert.equal(reached.length, 1, `one redirect to the relying party, got ${last(hops).status}`);
  return reached[0]!;
}

/** How many authorization responses (codes) the bridge has given out so far. */
async function codesIssued(h: Harness): Promise<number> {
  const text = await (await fetch(`${h.issuer}/metrics`)).text();
  const line = /^nopass_bridge_oidc_events_total\{event="authorization\.success"\} (\d+)$/m.exec(
    text,
  );
  return Number(line?.[1] ?? 0);
}

/** The picture page shows a waiting sign-in with this picture. */
function assertWaiting(hop: Hop, image: string): void {
  assert.equal(hop.status, 200);
  assert.match(hop.body, /Match this picture/);
  assert.ok(hop.body.includes(image), 'the current picture is shown');
}

/** The first state the picture page's event stream sends this browser. */
async function streamedStatus(browser: Browser, interaction: string): Promise<string> {
  const url = `${interaction}/events`;
  const cookie = await browser.jar.getCookieString(url);
  const response = await fetch(url, { headers: { cookie } });
  assert.equal(response.status, 200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  try {
    for (let chunk = 0; chunk < 20; chunk += 1) {
      const match = /event: state\ndata: (.*)\n\n/.exec(text);
      if (match) return (JSON.parse(match[1]!) as { status: string }).status;
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    await reader.cancel();
  }
  assert.fail(`no state on the event stream: ${text}`);
}

/** The browser's OIDC session cookie. */
async function sessionCookie(h: Harness, browser: Browser): Promise<string | undefined> {
  const cookies = await browser.jar.getCookies(`${h.issuer}/auth`);
  return cookies.find((cookie) => cookie.key === '_session')?.value;
}

const DAY = String(24 * 3600);

describe('callbacks out of order', { timeout: 60_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());

  it('gives one code for an approval sent twice, and that code redeems once', async () => {
    const userId = await newUser(h, 'twice');
    const browser = new Browser();
    const attempt = await startAttempt(h, browser, userId);
    const codesBefore = await codesIssued(h);

    assert.equal(await phone(h, attempt.authId, true), 200);
    const repeated = await callback(h, 'AuthorizedUser', {
      authId: attempt.authId,
      isAuthorized: true,
      reason: '',
    });
    assertRefused(repeated, 'login_settled', 'the repeated approval');

    const uid = new URL(attempt.interaction).pathname.split('/').at(-1)!;
    const resume = `${h.issuer}/auth/${uid}`;
    const resumeCookies = await browser.jar.getCookieString(resume);
    assert.ok(resumeCookies, 'the browser holds the resume cookie');

    // A double click, or two tabs: the completion asked twice at once finishes once.
    const completions = await Promise.all([
      browser.get(`${attempt.interaction}/complete`),
      browser.get(`${attempt.interaction}/complete`),
    ]);
    const onwards = completions.filter((hop) => hop.status === 303);
    assert.equal(
      onwards.length,
      1,
      `one completion goes on, got ${completions.map((hop) => hop.status).join(', ')}`,
    );
    assert.equal(onwards[0]!.location, resume);
    assert.equal(completions.find((hop) => hop.status !== 303)?.status, 400);

    const hop = last(await walk(browser, resume));
    assert.ok(atRelyingParty(attempt.started, hop), `at the relying party, got ${hop.status}`);
    const tokens = await redeem(attempt.started, hop);
    assert.equal(tokens.claims()?.sub, userId);

    // Back on the completion, through the browser's history or a reload: no second code.
    const again = await walk(browser, `${attempt.interaction}/complete`);
    assert.equal(noCode(again, 'completion revisited').status, 400);
    // The resume step replayed by the browser, and with the cookies it held before: no code.
    const replayed = await walk(browser, resume);
    assert.equal(noCode(replayed, 'resume replayed').status, 400);
    const forged = await fetch(resume, {
      headers: { cookie: resumeCookies, accept: 'text/html' },
      redirect: 'manual',
    });
    assert.equal(forged.status, 400, 'a resume with the old cookies');
    assert.ok(!forged.headers.get('location')?.startsWith(RP_REDIRECT));
    // One more copy of the approval, after the sign-in finished.
    const late = await callback(h, 'AuthorizedUser', {
      authId: attempt.authId,
      isAuthorized: true,
    });
    assertRefused(late, 'login_settled', 'the approval after completion');
    assert.equal(await codesIssued(h), codesBefore + 1, 'exactly one code was issued');

    await assert.rejects(
      redeem(attempt.started, hop),
      (error: unknown) => (error as { error?: string }).error === 'invalid_grant',
      'the code redeems once',
    );
  });

  it('ignores a refusal that follows an approval: the browser signs in as its user', async () => {
    const userId = await newUser(h, 'approved-first');
    const browser = new Browser();
    const attempt = await startAttempt(h, browser, userId);

    assert.equal(await phone(h, attempt.authId, true), 200);
    const refusal = await callback(h, 'AuthorizedUser', {
      authId: attempt.authId,
      isAuthorized: false,
      reason: 'Changed my mind',
    });
    assertRefused(refusal, 'login_settled', 'the refusal after the approval');

    const page = await browser.get(`${attempt.interaction}/picture`);
    assert.equal(page.status, 303, 'the picture page still carries on');
    assert.doesNotMatch(page.body, /Sign-in refused|Changed my mind/);
    const tokens = await redeem(attempt.started, await finish(browser, attempt));
    assert.equal(tokens.claims()?.sub, userId);
    assert.equal(tokens.claims()?.preferred_username, userId);
  });

  it('ignores an approval that follows a refusal: the page says refused, no code', async () => {
    const userId = await newUser(h, 'refused-first');
    const browser = new Browser();
    const attempt = await startAttempt(h, browser, userId);
    const codesBefore = await codesIssued(h);

    assert.equal(await phone(h, attempt.authId, false), 200);
    const approval = await callback(h, 'AuthorizedUser', {
      authId: attempt.authId,
      isAuthorized: true,
      reason: '',
    });
    assertRefused(approval, 'login_settled', 'the approval after the refusal');

    const page = noCode(await walk(browser, `${attempt.interaction}/picture`), 'picture');
    assert.equal(page.status, 200);
    assert.match(page.body, /Sign-in refused/);
    assert.match(page.body, /Not me/);
    assert.match(page.body, /Try again/);
    const complete = noCode(
      await walk(browser, `${attempt.interaction}/complete`),
      'completion of a refused sign-in',
    );
    assert.match(complete.body, /Sign-in refused/);
    // The event stream tells an open page the same.
    assert.equal(await streamedStatus(browser, attempt.interaction), 'refused');
    assert.equal(await codesIssued(h), codesBefore, 'no code was issued');
  });

  it('takes one of two contradicting verdicts sent together; the browser follows it', async () => {
    const userId = await newUser(h, 'both-at-once');
    const browser = new Browser();
    const attempt = await startAttempt(h, browser, userId);
    const codesBefore = await codesIssued(h);

    const [approval, refusal] = await Promise.all([
      callback(h, 'AuthorizedUser', { authId: attempt.authId, isAuthorized: true }),
      callback(h, 'AuthorizedUser', {
        authId: attempt.authId,
        isAuthorized: false,
        reason: 'Not me',
      }),
    ]);
    const accepted = [approval, refusal].filter((answer) => answer.status === 200);
    assert.equal(
      accepted.length,
      1,
      `one verdict is taken, got ${approval.status}, ${refusal.status}`,
    );
    const loser = approval.status === 200 ? refusal : approval;
    assertRefused(loser, 'login_settled', 'the other verdict');

    if (approval.status === 200) {
      const tokens = await redeem(attempt.started, await finish(browser, attempt));
      assert.equal(tokens.claims()?.sub, userId);
      assert.equal(await codesIssued(h), codesBefore + 1);
    } else {
      const page = noCode(await walk(browser, `${attempt.interaction}/complete`), 'end');
      assert.match(page.body, /Sign-in refused/);
      assert.equal(await codesIssued(h), codesBefore);
    }
  });

  it('refuses a new picture after an approval, and the sign-in carries on', async () => {
    const userId = await newUser(h, 'picture-approved');
    const browser = new Browser();
    const attempt = await startAttempt(h, browser, userId);

    assert.equal(await phone(h, attempt.authId, true), 200);
    const picture = await callback(h, 'UpdatePicture', {
      authId: attempt.authId,
      image: OTHER_PICTURE,
      nextChange: 20_000,
    });
    assertRefused(picture, 'login_settled', 'a picture after the approval');

    const page = await browser.get(`${attempt.interaction}/picture`);
    assert.equal(page.status, 303);
    assert.equal(page.location, `${attempt.interaction}/complete`);
    assert.ok(!page.body.includes(OTHER_PICTURE));
    const tokens = await redeem(attempt.started, await finish(browser, attempt));
    assert.equal(tokens.claims()?.sub, userId);
  });

  it('refuses a new picture after a refusal, and the page keeps the refusal', async () => {
    const userId = await newUser(h, 'picture-refused');
    const browser = new Browser();
    const attempt = await startAttempt(h, browser, userId);

    assert.equal(await phone(h, attempt.authId, false), 200);
    const picture = await callback(h, 'UpdatePicture', {
      authId: attempt.authId,
      image: OTHER_PICTURE,
      nextChange: 20_000,
    });
    assertRefused(picture, 'login_settled', 'a picture after the refusal');

    const page = noCode(await walk(browser, `${attempt.interaction}/picture`), 'picture');
    assert.equal(page.status, 200);
    assert.match(page.body, /Sign-in refused/);
    assert.match(page.body, /Try again/);
    assert.ok(!page.body.includes(OTHER_PICTURE), 'the late picture is not shown');
    assert.ok(!page.body.includes(attempt.image), 'nor the old one');

    // Trying again works as usual.
    const retry = await sendUserId(h, browser, attempt.interaction, userId);
    assert.equal(await phone(h, retry.authId, true), 200);
    const tokens = await redeem(attempt.started, await finish(browser, attempt));
    assert.equal(tokens.claims()?.sub, userId);
  });

  it('signs in only the browser whose authId was approved, each as its own user', async () => {
    const alice = await newUser(h, 'alice');
    const bob = await newUser(h, 'bob');
    const aliceBrowser = new Browser();
    const bobBrowser = new Browser();
    const a = await startAttempt(h, aliceBrowser, alice);
    const b = await startAttempt(h, bobBrowser, bob);

    assert.equal(await phone(h, a.authId, true), 200);

    // Bob's browser, on its own pages, sees nothing of Alice's approval.
    const bobComplete = noCode(await walk(bobBrowser, `${b.interaction}/complete`), 'Bob');
    assertWaiting(bobComplete, b.image);
    assert.deepEqual(
      (await h.auths(bob)).map((auth) => auth.authId),
      [b.authId],
      "Bob's authentication still waits at NoPass",
    );

    const aliceTokens = await redeem(a.started, await finish(aliceBrowser, a));
    assert.equal(aliceTokens.claims()?.sub, alice);

    // Still nothing for Bob once Alice is through.
    assertWaiting(
      noCode(await walk(bobBrowser, `${b.interaction}/picture`), 'Bob after Alice'),
      b.image,
    );

    assert.equal(await phone(h, b.authId, true), 200);
    const bobTokens = await redeem(b.started, await finish(bobBrowser, b));
    assert.equal(bobTokens.claims()?.sub, bob);
  });

  it('keeps a second browser as it is when an abandoned attempt is approved late', async () => {
    const userId = await newUser(h, 'two-browsers');
    const abandoned = new Browser();
    const browser = new Browser();
    const first = await startAttempt(h, abandoned, userId);
    const second = await startAttempt(h, browser, userId, { max_age: DAY });
    assert.notEqual(first.authId, second.authId);

    assert.equal(await phone(h, second.authId, true), 200);
    const signedIn = await redeem(second.started, await finish(browser, second));
    const claims = signedIn.claims()!;
    assert.equal(claims.sub, userId);
    assert.equal(typeof claims.auth_time, 'number');
    const session = await sessionCookie(h, browser);
    assert.ok(session, 'the browser has a session');
    const codesBefore = await codesIssued(h);

    // Long enough for a new sign-in to show in auth_time, which counts seconds.
    await sleep(1100);
    assert.equal(await phone(h, first.authId, true), 200, 'the earlier attempt is still valid');

    // The second browser, back on its sign-in's pages, gets nothing from it.
    const complete = await walk(browser, `${second.interaction}/complete`);
    assert.equal(noCode(complete, 'completion revisited').status, 400);
    const picture = await walk(browser, `${second.interaction}/picture`);
    assert.equal(noCode(picture, 'picture revisited').status, 400);
    // Nor when the relying party asks it to sign in again: nothing approved waits for it.
    const renewed = await authorize(browser, h.rp, RP_REDIRECT, { prompt: 'login' });
    assert.match(renewed.hop.body, /name="userId"/, 'the user id form');
    const early = await walk(browser, `${renewed.hop.url}/complete`);
    assert.equal(noCode(early, 'completion of the new sign-in').status, 400);
    const form = noCode(await walk(browser, `${renewed.hop.url}/picture`), 'its picture page');
    assert.match(form.body, /name="userId"/, 'the user id form again');
    assert.equal(await codesIssued(h), codesBefore, 'no code came of the late approval');
    assert.equal(await sessionCookie(h, browser), session, 'the session was not renewed');

    // The relying party asking silently finds the same sign-in, not a new one.
    const silent = await authorize(browser, h.rp, RP_REDIRECT, { prompt: 'none', max_age: DAY });
    const still = (await redeem(silent, silent.hop)).claims()!;
    assert.equal(still.sub, userId);
    assert.equal(still.auth_time, claims.auth_time, 'the same sign-in');

    // The late approval belongs to the browser that started it, and to no one else.
    const elsewhere = await redeem(first.started, await finish(abandoned, first));
    assert.equal(elsewhere.claims()?.sub, userId);
    assert.notEqual(await sessionCookie(h, abandoned), session);
    assert.equal(await sessionCookie(h, browser), session);
  });

  it('completes nothing with the late approval of an attempt replaced in its page', async () => {
    const userId = await newUser(h, 'replaced');
    const browser = new Browser();
    const old = await startAttempt(h, browser, userId);
    const renewed = await sendUserId(h, browser, old.interaction, userId);
    assert.notEqual(renewed.authId, old.authId);
    const codesBefore = await codesIssued(h);

    // Whatever NoPass makes of an approval for a session the bridge closed, nothing finishes.
    await phone(h, old.authId, true);
    await callback(h, 'AuthorizedUser', { authId: old.authId, isAuthorized: true });

    const complete = noCode(
      await walk(browser, `${old.interaction}/complete`),
      'completion after the old approval',
    );
    assertWaiting(complete, renewed.image);
    assert.equal(await codesIssued(h), codesBefore, 'the old approval gave no code');
    assert.equal(await streamedStatus(browser, old.interaction), 'waiting', 'the page waits on');

    assert.equal(await phone(h, renewed.authId, true), 200);
    const tokens = await redeem(old.started, await finish(browser, old));
    assert.equal(tokens.claims()?.sub, userId);
    assert.equal(await codesIssued(h), codesBefore + 1);
  });

  it('answers an approval after the person cancelled as late, and never gives a code', async () => {
    const userId = await newUser(h, 'cancelled');
    const browser = new Browser();
    const attempt = await startAttempt(h, browser, userId);
    const codesBefore = await codesIssued(h);

    // The cancel's redirect is not followed yet: the approval races it.
    const cancelled = await browser.post(`${attempt.interaction}/cancel`, {});
    assert.equal(cancelled.status, 303);
    assertRefused(
      await callback(h, 'AuthorizedUser', { authId: attempt.authId, isAuthorized: true }),
      'login_settled',
      'an approval after the cancel',
    );
    noCode(await walk(browser, `${attempt.interaction}/complete`), 'completion after the cancel');
    assert.equal(await codesIssued(h), codesBefore, 'the late approval gave no code');

    // Following the cancel brings access_denied to the relying party, as always.
    const back = last(await walk(browser, String(cancelled.location)));
    const params = new URL(String(back.location)).searchParams;
    assert.equal(params.get('error'), 'access_denied');
  });
});

describe('callbacks after a sign-in ran out of time', { timeout: 60_000 }, () => {
  let h: Harness;
  before(async () => {
    // Pictures keep coming every second; only the sign-in's own lifetime (the shortest
    // LOGIN_TTL_MS allowed) ends it.
    h = await startHarness({
      simulator: { nextChangeMs: 1000, maxPictures: 1000 },
      env: { LOGIN_TTL_MS: '10000', PICTURE_GRACE_MS: '500' },
    });
  });
  after(() => h.stop());

  it('refuses every verdict and picture once expired, and never gives a code', async () => {
    const userId = await newUser(h, 'expired');
    const browser = new Browser();
    const attempt = await startAttempt(h, browser, userId);
    const codesBefore = await codesIssued(h);

    // NoPass keeps the picture fresh; the bridge takes new ones while the sign-in lives.
    await eventually(async () => {
      const [auth] = await h.auths(userId);
      assert.ok((auth?.pictureSeq ?? 0) >= 2, 'a second picture was sent');
    }, 5000);
    const calls = (await (await fetch(`${h.simulatorUrl}/control/calls`)).json()) as {
      op: string;
      status: number | null;
      body: { authId?: string } | null;
    }[];
    assert.ok(
      calls.some(
        (call) =>
          call.op === 'UpdatePicture' &&
          call.body?.authId === attempt.authId &&
          call.status === 200,
      ),
      'a new picture was taken before the end',
    );

    await eventually(async () => {
      const page = await browser.get(`${attempt.interaction}/picture`);
      assert.equal(page.status, 200);
      assert.match(page.body, /The picture expired/);
    }, 20_000);

    const picture = await h.control(`/control/auths/${attempt.authId}/picture`);
    assert.equal(
      ((await picture.json()) as { portalStatus: number }).portalStatus,
      400,
      'a picture after the end',
    );
    const refusal = await callback(h, 'AuthorizedUser', {
      authId: attempt.authId,
      isAuthorized: false,
      reason: 'Too slow',
    });
    assertRefused(refusal, 'login_expired', 'a refusal after the end');
    assert.equal(await phone(h, attempt.authId, true), 400, 'an approval after the end');

    const page = noCode(await walk(browser, `${attempt.interaction}/complete`), 'end');
    assert.equal(page.status, 200);
    assert.match(page.body, /The picture expired/);
    assert.doesNotMatch(page.body, /Sign-in refused|Too slow/);
    assert.match(page.body, /Try again/);
    assert.equal(await codesIssued(h), codesBefore, 'no code was issued');
  });
});
