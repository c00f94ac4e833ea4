/**
 * The user's side of an interop test, with the scripted browser: sign in at the bridge once a
 * relying party has sent the browser there, and confirm a sign-out the relying party started.
 * The bridge and the simulator come from the shared harness; only the relying party differs
 * between tests.
 */
import assert from 'node:assert/strict';
import { last, type Browser, type Hop } from '../../helpers/browser.ts';
import { startHarness, type Harness } from '../../helpers/harness.ts';

/** Redirects a browser may need between the relying party and a page someone sees. */
const HOPS = 12;

/** The bridge and the simulator, with `clients` as the clients file and `userId` a NoPass user. */
/**
 * The clients file entry an operator adds for a server-side web application: confidential,
 * first-party, code flow, secret in the Authorization header.
 */
export function webClient(
  clientId: string,
  clientSecret: string,
  clientName: string,
  redirectUri: string,
  postLogoutRedirectUri: string,
): Record<string, unknown> {
  return {
    client_id: clientId,
    client_secret: clientSecret,
    client_name: clientName,
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [postLogoutRedirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    first_party: true,
  };
}

export async function startBridge(clients: unknown[], userId: string): Promise<Harness> {
  const h = await startHarness({ clients });
  const added = await h.control('/control/users', { userId });
  assert.equal(added.status, 200);
  return h;
}

/** Parameters of the authorization request the relying party sent the browser with. */
export function authorizationParams(hops: Hop[], issuer: string): URLSearchParams {
  const request = hops.find((hop) => hop.url.startsWith(`${issuer}/auth?`));
  assert.ok(request, 'the relying party sent the browser to the authorization endpoint');
  return new URL(request.url).searchParams;
}

/**
 * From a page of the relying party that redirects to the bridge: the user id form, the picture,
 * the approval on the "phone" (the simulator's control API), and every redirect back into the
 * relying party until it shows a page. Returns the hops before and after the approval.
 */
export async function signIn(
  h: Harness,
  browser: Browser,
  start: string,
  userId: string,
): Promise<{ toBridge: Hop[]; back: Hop[] }> {
  const toBridge = await browser.follow(start, undefined, HOPS);
  const form = last(toBridge);
  assert.equal(
    form.status,
    200,
    `the user id form is shown, got ${form.status} at ${form.url}\n${form.body}`,
  );
  assert.ok(form.url.startsWith(`${h.issuer}/interaction/`), form.url);
  assert.match(form.body, /name="userId"/);

  const interaction = form.url;
  const submitted = await browser.post(`${interaction}/login`, { userId });
  assert.equal(submitted.status, 303, submitted.body);

  const waiting = await h.auths(userId);
  assert.equal(waiting.length, 1, 'one NoPass authentication waits for the phone');
  const approved = await h.control(`/control/auths/${waiting[0]!.authId}/approve`);
  assert.equal(((await approved.json()) as { portalStatus: number }).portalStatus, 200);

  const back = await browser.follow(`${interaction}/picture`, undefined, HOPS);
  return { toBridge, back };
}

/**
 * The bridge's sign-out confirmation, reached from the relying party's logout: answers "yes"
 * and follows the browser back to where the relying party asked to land.
 */
export async function confirmSignOut(
  h: Harness,
  browser: Browser,
  start: string,
): Promise<{ toBridge: Hop[]; back: Hop[] }> {
  const toBridge = await browser.follow(start, undefined, HOPS);
  const confirm = last(toBridge);
  assert.equal(confirm.status, 200, `the bridge asks to confirm, got ${confirm.status}`);
  assert.ok(confirm.url.startsWith(`${h.issuer}/session/end`), confirm.url);
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)?.[1];
  const action = /<form[^>]*action="([^"]+)"/.exec(confirm.body)?.[1];
  assert.ok(xsrf && action, 'the confirmation page carries the sign-out form');

  const done = await browser.post(new URL(action, h.issuer).href, { xsrf, logout: 'yes' });
  assert.equal(done.status, 303, done.body);
  assert.ok(done.location, 'the bridge sends the browser back to the relying party');
  const back = await browser.follow(done.location, undefined, HOPS);
  return { toBridge, back };
}

/**
 * After a sign-out, the relying party's protected page sends the browser to the bridge again,
 * and the bridge asks for the user id: neither side remembers the session.
 */
export async function assertSignedOutEverywhere(
  h: Harness,
  browser: Browser,
  protectedUrl: string,
): Promise<void> {
  const hops = await browser.follow(protectedUrl, undefined, HOPS);
  const page = last(hops);
  assert.equal(page.status, 200, `${page.status} at ${page.url}`);
  assert.ok(page.url.startsWith(`${h.issuer}/interaction/`), `the bridge asks again: ${page.url}`);
  assert.match(page.body, /name="userId"/);
}

/** `KEY=value` lines, as a CGI program prints its environment. */
export function parseLines(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) values.set(line.slice(0, at), line.slice(at + 1).trimEnd());
  }
  return values;
}
