/**
 * Steps of a registration from the hosted pages, over real HTTP: the browser reaches the user id
 * form through the relying party's authorization request, opens "register with NoPass", sends
 * the form, lands on the simulator's registration page (the app's part), and comes back.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { Browser } from '../helpers/browser.ts';
import { last } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  type AuthRequest,
  type Harness,
} from '../helpers/harness.ts';

export const ALL_SCOPES = 'openid profile email phone';

export interface StartedRegistration {
  request: AuthRequest;
  /** The interaction's base URL. */
  interaction: string;
  /** Where the bridge sent the browser: the simulator's registration page. */
  registerLink: string;
  otp: string;
  /** Where NoPass sends the browser back. */
  redirectUrl: string;
}

/** Browser → /auth → user id form → registration form → sent; the browser is at NoPass next. */
export async function startRegistration(
  h: Harness,
  browser: Browser,
  form: Record<string, string>,
  extra: Record<string, string> = {},
): Promise<StartedRegistration> {
  const request = await authorizationRequest(h.rp, { scope: ALL_SCOPES, ...extra });
  const login = last(await browser.follow(request.url.href));
  assert.equal(login.status, 200, 'the user id form is shown');
  const interaction = login.url;
  assert.match(login.body, new RegExp(`href="${new URL(interaction).pathname}/register"`));

  const page = await browser.get(`${interaction}/register`);
  assert.equal(page.status, 200, page.body);
  const sent = await browser.post(`${interaction}/register`, form);
  assert.equal(sent.status, 303, sent.body);
  const registerLink = sent.location!;
  assert.ok(registerLink.startsWith(`${h.simulatorUrl}/register/`), registerLink);
  const otp = registerLink.slice(registerLink.lastIndexOf('/') + 1);

  const listed = await fetch(`${h.simulatorUrl}/control/registrations`);
  const registration = ((await listed.json()) as { otp: string; redirectUrl: string }[]).find(
    (each) => each.otp === otp,
  );
  assert.ok(registration, 'the simulator has the registration');
  return { request, interaction, registerLink, otp, redirectUrl: registration.redirectUrl };
}

/** The person finishes in the "app": the simulator's page, as a browser submits it. */
export async function finishInApp(
  browser: Browser,
  registerLink: string,
  details: Record<string, string> = {},
): Promise<string> {
  const page = await browser.get(registerLink);
  assert.equal(page.status, 200, page.body);
  const field = (name: string): string =>
    new RegExp(`name="${name}" value="([^"]*)"`).exec(page.body)?.[1] ?? '';
  const form = {
    givenName: field('givenName'),
    surName: field('surName'),
    email: field('email'),
    phoneNumber: field('phoneNumber'),
    ...details,
  };
  const done = await browser.post(registerLink, form);
  assert.equal(done.status, 303, done.body);
  return done.location!;
}

/** Follows the way back to the relying party and redeems the code. */
export async function backToRelyingParty(
  h: Harness,
  browser: Browser,
  redirectUrl: string,
  request: AuthRequest,
) {
  const hops = await browser.follow(redirectUrl, RP_REDIRECT);
  const final = last(hops);
  assert.ok(final.location?.startsWith(RP_REDIRECT), `ends at the RP, got ${final.status}`);
  const callback = new URL(final.location!);
  assert.equal(callback.searchParams.get('state'), request.state);
  return oidc.authorizationCodeGrant(h.rp, callback, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
}

let counter = 0;
/** A user id no other test uses. */
export function freshUserId(label = 'reg'): string {
  counter += 1;
  return `${label}-${process.pid % 1000}-${counter}`;
}
