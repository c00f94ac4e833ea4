/**
 * The control API under `/control`: JSON routes with which tests and scripts play the parts
 * nobody else plays here (the administrator registering a portal, the phone approving or
 * refusing, the clock turning a picture) and inspect or sabotage the simulator.
 *
 *   POST   /portals                  {webUrl, adminId, sCode, name?} → {portalId, authToken}, 502
 *   GET    /portals                  registered portals and their users (no tokens)
 *   POST   /users                    {userId, portalId?}: every portal when portalId is omitted
 *   POST   /users/:userId/update     {updates, portalId?, sendPortalId?}: sends UpdateUser
 *   POST   /users/:userId/delete     {portalId?, sendPortalId?}: sends DeleteUser, forgets the user
 *   GET    /registrations            registrations started by PreRegisterUser, oldest first
 *   POST   /registrations/:otp/complete   {details?, skipValidation?}: the app's part (see
 *                                    user-accounts.ts) → {status, validateStatus, confirmStatus}
 *   GET    /auths?userId=&status=    authentications, oldest first; filters are optional
 *   POST   /auths/:authId/approve    {userId?}: sends AuthorizedUser (naming userId for a social
 *                                    network sign-in) → {portalStatus}
 *   POST   /auths/:authId/refuse     {reason?}, sends AuthorizedUser → {portalStatus}
 *   POST   /auths/:authId/picture    rotates now (UpdatePicture) → {portalStatus, pictureSeq}
 *   GET | POST | DELETE /faults      read, set or reset the fault knobs (faults.ts)
 *   GET | DELETE /calls              read or clear the log of calls with portals
 */
import { bodyParser } from '@koa/bodyparser';
import { Router } from '@koa/router';
import { decide, DEFAULT_REFUSAL, findAuth, rotatePicture } from './auth-sessions.ts';
import { activeFaults, noFaults, updateFaults } from './faults.ts';
import { isJsonObject } from './casing.ts';
import { bodyObject, optionalBoolean, optionalText, Problem, requiredText } from './http.ts';
import { registerPortal, PortalRegistrationError } from './portal-registration.ts';
import type { AuthSession, RegistrationData, SimulatorCore } from './state.ts';
import {
  completeRegistration,
  findPortal,
  findRegistration,
  sendDeleteUser,
  sendUpdateUser,
} from './user-accounts.ts';

/** How the control API shows an authentication. */
export interface AuthView {
  authId: string;
  userId: string;
  portalId: string;
  image: string;
  nextChange: number;
  pictureSeq: number;
  status: AuthSession['status'];
  reason?: string;
  closed: boolean;
  /** For a social network sign-in: which network. */
  social?: AuthSession['social'];
}

const STATUSES: readonly string[] = ['waiting', 'approved', 'refused', 'stopped'];

/** Routes of the control API. */
export function controlRouter(sim: SimulatorCore): Router {
  const router = new Router({ prefix: '/control' });
  router.use(bodyParser({ enableTypes: ['json'], jsonLimit: '100kb' }));

  router.post('/portals', async (ctx) => {
    const body = bodyObject(ctx.request.body);
    const input = {
      webUrl: requiredText(body, 'webUrl', { max: 2084 }),
      adminId: requiredText(body, 'adminId', { max: 63 }),
      sCode: requiredText(body, 'sCode', { max: 256 }),
      name: optionalText(body, 'name', { max: 256 }),
    };
    try {
      ctx.body = await registerPortal(sim, input);
    } catch (error) {
      if (!(error instanceof PortalRegistrationError)) throw error;
      ctx.status = 502;
      ctx.body = { error: 'portal_registration_failed', error_description: error.message };
    }
  });

  router.get('/portals', (ctx) => {
    ctx.body = [...sim.portals.values()].map((portal) => ({
      portalId: portal.portalId,
      name: portal.name,
      webUrl: portal.webUrl,
      adminId: portal.adminId,
      users: [...portal.users],
    }));
  });

  router.post('/users', (ctx) => {
    const body = bodyObject(ctx.request.body);
    const userId = requiredText(body, 'userId', { max: 36 });
    const portalId = optionalText(body, 'portalId', { max: 256 });
    if (portalId === undefined) {
      // Known to every portal, including those registered later.
      sim.config.users.add(userId);
      for (const portal of sim.portals.values()) portal.users.add(userId);
    } else {
      const portal = sim.portals.get(portalId);
      if (!portal) throw new Problem(404, 'No portal with this portalId is registered.');
      portal.users.add(userId);
    }
    ctx.body = { userId, portalId: portalId ?? null };
  });

  router.post('/users/:userId/update', async (ctx) => {
    const body = bodyObject(ctx.request.body);
    const updates = body.updates;
    if (!isJsonObject(updates)) throw new Problem(400, 'updates must be an object.');
    const portal = findPortal(sim, optionalText(body, 'portalId', { max: 256 }));
    const sendPortalId = optionalText(body, 'sendPortalId', { max: 256, allowEmpty: true });
    const reply = await sendUpdateUser(
      sim,
      portal,
      userIdParam(ctx.params.userId),
      updates,
      sendPortalId,
    );
    ctx.body = { portalStatus: reply.status, portalBody: reply.body ?? null };
  });

  router.post('/users/:userId/delete', async (ctx) => {
    const body = bodyObject(ctx.request.body);
    const portal = findPortal(sim, optionalText(body, 'portalId', { max: 256 }));
    const sendPortalId = optionalText(body, 'sendPortalId', { max: 256, allowEmpty: true });
    const reply = await sendDeleteUser(sim, portal, userIdParam(ctx.params.userId), sendPortalId);
    ctx.body = { portalStatus: reply.status, portalBody: reply.body ?? null };
  });

  router.get('/registrations', (ctx) => {
    ctx.body = [...sim.registrations.values()].map((registration) => ({
      otp: registration.otp,
      portalId: registration.portalId,
      userId: registration.userId,
      redirectUrl: registration.redirectUrl,
      data: registration.data,
      status: registration.status,
    }));
  });

  router.post('/registrations/:otp/complete', async (ctx) => {
    const registration = findRegistration(sim, ctx.params.otp);
    const body = bodyObject(ctx.request.body);
    const given = body.details;
    if (given !== undefined && given !== null && !isJsonObject(given)) {
      throw new Problem(400, 'details must be an object.');
    }
    const details: RegistrationData & { profileImageUrl?: string } = {};
    for (const field of DETAIL_FIELDS) {
      const value = isJsonObject(given)
        ? optionalText(given, field, { max: 2084, allowEmpty: true })
        : undefined;
      if (value !== undefined) details[field] = value;
    }
    ctx.body = await completeRegistration(sim, registration, {
      details,
      skipValidation: optionalBoolean(body, 'skipValidation') ?? false,
    });
  });

  router.get('/auths', (ctx) => {
    const { userId, status } = ctx.query;
    if (Array.isArray(userId) || Array.isArray(status)) {
      throw new Problem(400, 'Give userId and status at most once each.');
    }
    if (status !== undefined && !STATUSES.includes(status)) {
      throw new Problem(400, `status must be one of ${STATUSES.join(', ')}.`);
    }
    ctx.body = [...sim.auths.values()]
      .filter((auth) => userId === undefined || auth.userId === userId)
      .filter((auth) => status === undefined || auth.status === status)
      .map(view);
  });

  router.post('/auths/:authId/approve', async (ctx) => {
    const auth = findAuth(sim, ctx.params.authId);
    // A social network sign-in is approved as the user named here, if any.
    const userId = optionalText(bodyObject(ctx.request.body), 'userId', { max: 36 });
    const reply = await decide(sim, auth, true, '', userId);
    ctx.body = { portalStatus: reply.status };
  });

  router.post('/auths/:authId/refuse', async (ctx) => {
    const auth = findAuth(sim, ctx.params.authId);
    const body = bodyObject(ctx.request.body);
    const reason = optionalText(body, 'reason', { max: 2084 }) ?? DEFAULT_REFUSAL;
    const reply = await decide(sim, auth, false, reason);
    ctx.body = { portalStatus: reply.status };
  });

  router.post('/auths/:authId/picture', async (ctx) => {
    const auth = findAuth(sim, ctx.params.authId);
    const reply = await rotatePicture(sim, auth);
    ctx.body = { portalStatus: reply.status, pictureSeq: auth.pictureSeq };
  });

  router.get('/faults', (ctx) => {
    ctx.body = activeFaults(sim);
  });

  router.post('/faults', (ctx) => {
    sim.faults = updateFaults(sim.faults, bodyObject(ctx.request.body));
    ctx.body = activeFaults(sim);
  });

  router.delete('/faults', (ctx) => {
    sim.faults = noFaults();
    ctx.body = activeFaults(sim);
  });

  router.get('/calls', (ctx) => {
    ctx.body = sim.calls;
  });

  router.delete('/calls', (ctx) => {
    sim.calls.length = 0;
    ctx.status = 204;
  });

  return router;
}

/** Details the app may change before finishing a registration. */
const DETAIL_FIELDS = ['givenName', 'surName', 'phoneNumber', 'email', 'profileImageUrl'] as const;

function userIdParam(userId: string | undefined): string {
  if (!userId || userId.length > 36) throw new Problem(400, 'userId must be 1 to 36 characters.');
  return userId;
}

function view(auth: AuthSession): AuthView {
  return {
    authId: auth.authId,
    userId: auth.userId,
    portalId: auth.portalId,
    image: auth.image,
    nextChange: auth.nextChange,
    pictureSeq: auth.pictureSeq,
    status: auth.status,
    ...(auth.reason === undefined ? {} : { reason: auth.reason }),
    closed: auth.closedAt !== undefined,
    ...(auth.social === undefined ? {} : { social: auth.social }),
  };
}
