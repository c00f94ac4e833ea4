/**
 * Portal registration, as the vendor's registration page does it: the administrator gives the
 * portal's web URL, admin login and S-code; the server asks the portal to prove it knows them
 * (ConfirmPreRegistration with a random number `r`, answered with the admin login, the S-code
 * and `r + 1`), then hands the portal its portalId and authToken (ConfirmRegistration, answered
 * with the S-code again). Only then is the portal stored.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { isJsonObject, readField } from './casing.ts';
import { httpUrl, Problem } from './http.ts';
import { callPortal, type PortalReply } from './portal-calls.ts';
import type { PortalRecord, SimulatorCore } from './state.ts';

/** What an administrator types on the registration page. */
export interface PortalRegistrationInput {
  webUrl: string;
  adminId: string;
  sCode: string;
  name?: string;
}

/** The portal did not complete the handshake; the message names the step and what was wrong. */
export class PortalRegistrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PortalRegistrationError';
  }
}

/**
 * Runs the handshake with the portal at `input.webUrl` and stores it. Input that breaks the
 * guide's rules is a `Problem` (400); a portal that answers wrongly is a
 * `PortalRegistrationError`.
 */
export async function registerPortal(
  sim: SimulatorCore,
  input: PortalRegistrationInput,
): Promise<{ portalId: string; authToken: string }> {
  const webUrl = httpUrl(String(input.webUrl), 'webUrl');
  checkCredentials(input);
  const name = input.name?.trim() || new URL(webUrl).host;
  const target = { webUrl, portalId: null };

  const r = randomInt(1, 2 ** 31 - 2);
  const pre = await callPortal(sim, target, 'ConfirmPreRegistration', {
    adminId: input.adminId,
    r,
  });
  const preBody = expectJson('ConfirmPreRegistration', webUrl, pre);
  const adminId = readField(preBody, 'adminId');
  if (adminId !== input.adminId) {
    fail('ConfirmPreRegistration', `adminId ${show(adminId)} does not match "${input.adminId}"`);
  }
  if (readField(preBody, 'sCode') !== input.sCode) {
    fail('ConfirmPreRegistration', 'sCode does not match the S-code given for this portal');
  }
  const answeredR = readField(preBody, 'r');
  if (answeredR !== r + 1) {
    fail('ConfirmPreRegistration', `r is ${show(answeredR)}, expected ${r + 1} (r + 1)`);
  }

  const portalId = randomUUID();
  const authToken = randomBytes(48).toString('base64url');
  const settings = JSON.stringify({
    portalName: name,
    webUrl,
    pictureLifetimeMs: sim.config.nextChangeMs,
    picturesPerAuthentication: sim.config.maxPictures,
    simulator: true,
  });
  const confirm = await callPortal(sim, { webUrl, portalId }, 'ConfirmRegistration', {
    settings,
    portalId,
    authToken,
  });
  const confirmBody = expectJson('ConfirmRegistration', webUrl, confirm);
  if (readField(confirmBody, 'sCode') !== input.sCode) {
    fail('ConfirmRegistration', 'sCode does not match the S-code given for this portal');
  }

  const portal: PortalRecord = {
    portalId,
    authToken,
    webUrl,
    adminId: input.adminId,
    name,
    users: new Set(sim.config.users),
    registeredAt: sim.now(),
  };
  sim.portals.set(portalId, portal);
  sim.portalsByToken.set(authToken, portal);
  sim.log.info({ portal_id: portalId, web_url: webUrl }, 'portal registered');
  return { portalId, authToken };
}

/** The guide's rules for the admin login and S-code, checked before the portal is called. */
function checkCredentials(input: PortalRegistrationInput): void {
  const { adminId, sCode, name } = input;
  if (typeof adminId !== 'string' || adminId === '' || adminId.length >= 64) {
    throw new Problem(400, 'adminId must be a string of 1 to 63 characters.');
  }
  // The S-code itself never appears in a message.
  if (typeof sCode !== 'string' || sCode.length < 8 || sCode.length > 256) {
    throw new Problem(400, 'sCode must be 8 to 256 characters long.');
  }
  if (!/[A-Z]/.test(sCode) || !/[^A-Za-z]/.test(sCode)) {
    throw new Problem(
      400,
      'sCode must contain capital letters and digits or symbols, as NoPass requires.',
    );
  }
  if (name !== undefined && (typeof name !== 'string' || name.length > 256)) {
    throw new Problem(400, 'name must be a string of at most 256 characters.');
  }
}

function expectJson(op: string, webUrl: string, reply: PortalReply): Record<string, unknown> {
  if (reply.status === null) {
    fail(op, `the portal at ${webUrl} did not answer (${reply.error ?? 'no reply'})`);
  }
  if (reply.status !== 200) fail(op, `the portal answered HTTP ${reply.status}, expected 200`);
  if (!isJsonObject(reply.body)) fail(op, 'the portal did not answer with a JSON object');
  return reply.body;
}

function fail(op: string, what: string): never {
  throw new PortalRegistrationError(`Portal registration failed at ${op}: ${what}.`);
}

function show(value: unknown): string {
  return value === undefined ? 'missing' : JSON.stringify(value);
}
