/**
 * The life of an authentication: it starts with a picture, the picture is replaced every
 * `nextChange` ms (each new one sent to the portal as UpdatePicture) until a verdict or until
 * the authentication has shown its last picture, after which it stops and the portal's picture
 * simply runs out. A verdict is sent to the portal as AuthorizedUser.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pictureLifetime, picturesPerAuth } from './faults.ts';
import { Problem } from './http.ts';
import { randomPicture } from './pictures.ts';
import { sendCallback, type PortalReply } from './portal-calls.ts';
import { sweep, type AuthSession, type PortalRecord, type SimulatorCore } from './state.ts';

/** The refusal reason sent when the person refusing gave none. */
export const DEFAULT_REFUSAL = 'The sign-in was refused on the phone.';

/** The authentication with this authId, or a 404. */
export function findAuth(sim: SimulatorCore, authId: string | undefined): AuthSession {
  const auth = authId === undefined ? undefined : sim.auths.get(authId);
  if (!auth) throw new Problem(404, 'No authentication with this authId.');
  return auth;
}

/** Starts an authentication for `userId` at `portal`, with its first picture. */
export function startAuth(
  sim: SimulatorCore,
  portal: PortalRecord,
  userId: string,
  social?: AuthSession['social'],
): AuthSession {
  sweep(sim);
  const now = sim.now();
  const auth: AuthSession = {
    authId: randomBytes(24).toString('base64url'),
    userId,
    portalId: portal.portalId,
    image: randomPicture(),
    nextChange: pictureLifetime(sim),
    pictureSeq: 1,
    pictureAt: now,
    status: 'waiting',
    createdAt: now,
    ...(social === undefined ? {} : { social }),
  };
  sim.auths.set(auth.authId, auth);
  schedule(sim, auth);
  return auth;
}

/** Replaces the picture now and sends it to the portal. Only while the auth is waiting. */
export async function rotatePicture(sim: SimulatorCore, auth: AuthSession): Promise<PortalReply> {
  if (auth.status !== 'waiting') {
    throw new Problem(409, `This authentication is ${auth.status}; its picture no longer changes.`);
  }
  auth.image = randomPicture(auth.image);
  auth.nextChange = pictureLifetime(sim);
  auth.pictureSeq += 1;
  auth.pictureAt = sim.now();
  // The next rotation is timed from the picture's birth, not from the portal's answer.
  schedule(sim, auth);
  const { authId, image, nextChange } = auth;
  return sendCallback(sim, target(sim, auth), 'UpdatePicture', { authId, image, nextChange });
}

/**
 * Records the verdict and sends AuthorizedUser. A verdict is accepted while the auth waits, and
 * also after it stopped, so a test can deliver a verdict later than the portal expects it.
 * Approving a social network sign-in names the user it turned out to be (`userId`), since the
 * portal started it without one.
 */
export async function decide(
  sim: SimulatorCore,
  auth: AuthSession,
  isAuthorized: boolean,
  reason: string,
  userId?: string,
): Promise<PortalReply> {
  if (auth.status === 'approved' || auth.status === 'refused') {
    throw new Problem(409, `This authentication was already ${auth.status}.`);
  }
  clearTimeout(auth.timer);
  auth.status = isAuthorized ? 'approved' : 'refused';
  if (!isAuthorized) auth.reason = reason;
  const named = isAuthorized && auth.social !== undefined && userId !== undefined;
  if (named) auth.userId = userId;
  const body = { authId: auth.authId, isAuthorized, reason, ...(named ? { userId } : {}) };
  return sendCallback(sim, target(sim, auth), 'AuthorizedUser', body);
}

/** How often, and how far apart, an automatic approval is sent while the portal refuses it. */
const AUTO_APPROVE_TRIES = 5;
const AUTO_APPROVE_GAP_MS = 10;

/**
 * The `autoApprove` fault: approves right after RequestAuthorization has answered. The approval
 * can reach the portal before the portal has stored the sign-in it just started (it is still
 * reading the answer), which it refuses as an unknown authId; a phone is never that fast, so
 * here a refused approval is sent again a few times, briefly apart, instead of being lost.
 */
export function approveAtOnce(sim: SimulatorCore, auth: AuthSession): void {
  const run = async (): Promise<void> => {
    let reply = await decide(sim, auth, true, '');
    const body = { authId: auth.authId, isAuthorized: true, reason: '' };
    const refused = (status: number | null): boolean =>
      status !== null && status >= 400 && status < 500;
    for (let tries = 1; refused(reply.status) && tries < AUTO_APPROVE_TRIES; tries += 1) {
      await sleep(AUTO_APPROVE_GAP_MS, undefined, { ref: false });
      if (sim.closing.signal.aborted) return;
      reply = await sendCallback(sim, target(sim, auth), 'AuthorizedUser', body);
    }
  };
  // After the current reply has been written: the portal hears the answer first.
  setImmediate(() => {
    run().catch((error: unknown) => sim.log.warn({ err: error }, 'automatic approval failed'));
  });
}

/** Stops a waiting authentication: no more pictures, no verdict. */
export function stopAuth(auth: AuthSession): void {
  clearTimeout(auth.timer);
  if (auth.status === 'waiting') auth.status = 'stopped';
}

/** Clears every pending rotation; used by `close()`. */
export function stopAllTimers(sim: SimulatorCore): void {
  for (const auth of sim.auths.values()) clearTimeout(auth.timer);
}

function schedule(sim: SimulatorCore, auth: AuthSession): void {
  clearTimeout(auth.timer);
  if (sim.closing.signal.aborted) return;
  auth.timer = setTimeout(() => {
    if (auth.status !== 'waiting') return;
    if (auth.pictureSeq >= picturesPerAuth(sim)) {
      stopAuth(auth);
      return;
    }
    rotatePicture(sim, auth).catch((error: unknown) => {
      sim.log.warn({ err: error }, 'picture rotation failed');
    });
  }, auth.nextChange);
  // A pending rotation must never keep the process alive on its own.
  auth.timer.unref();
}

function target(sim: SimulatorCore, auth: AuthSession): { webUrl: string; portalId: string } {
  // Portals are never forgotten while the simulator runs, so this is a safety net only.
  const portal = sim.portals.get(auth.portalId);
  if (!portal) throw new Problem(404, 'The portal of this authentication is not registered.');
  return { webUrl: portal.webUrl, portalId: portal.portalId };
}
