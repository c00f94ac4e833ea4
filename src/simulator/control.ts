/**
 * The control API under `/control`: JSON routes with which tests and scripts play the parts
 * nobody else plays here (the administrator registering a portal, the phone approving or
 * refusing, the clock turning a picture) and inspect or sabotage the simulator.
 *
 *   POST   /portals                  {webUrl, adminId, sCode, name?} → {portalId, authToken}, 502
 *   GET    /portals                  registered portals and their users (no tokens)
 *   POST   /users                    {userId, portalId?}: every portal when portalId is omitted
 *   GET    /auths?userId=&status=    authentications, oldest first; filters are optional
 *   POST   /auths/:authId/approve    sends AuthorizedUser → {portalStatus}
 *   POST   /auths/:authId/refuse     {reason?}, sends AuthorizedUser → {portalStatus}
 *   POST   /auths/:authId/picture    rotates now (UpdatePicture) → {portalStatus, pictureSeq}
 *   GET | POST | DELETE /faults      read, set or reset the fault knobs (faults.ts)
 *   GET | DELETE /calls              read or clear the log of calls with portals
 */
import { bodyParser } from '@koa/bodyparser';
import { Router } from '@koa/router';
import { decide, DEFAULT_REFUSAL, findAuth, rotatePicture } from './auth-sessions.ts';
import { activeFaults, noFaults, updateFaults } from './faults.ts';
import { bodyObject, optionalText, Problem, requiredText } from './http.ts';
import { registerPortal, PortalRegistrationError } from './portal-registration.ts';
import type { AuthSession, SimulatorCore } from './state.ts';

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
    const reply = await decide(sim, findAuth(sim, ctx.params.authId), true, '');
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
  };
}
