/**
 * RequestAuthorization: starts an authentication for a user the portal knows. The reply
 * carries the first picture; the next ones reach the portal as UpdatePicture. Social network
 * sign-in is accepted in the request but not simulated, so `loginUrl` is always null.
 */
import { startAuth } from '../auth-sessions.ts';
import { optionalInteger, Problem, requiredText } from '../http.ts';
import type { OperationInput } from '../server-api.ts';

/** The envelope's `result` for RequestAuthorization. */
export interface AuthorizationResult {
  authId: string;
  image: string;
  nextChange: number;
  loginUrl: null;
}

export function requestAuthorization({ sim, portal, body }: OperationInput): AuthorizationResult {
  // Empty is allowed on the wire: a social sign-in names no user (and then finds none here).
  const userId = requiredText(body, 'userId', { max: 36, allowEmpty: true });
  optionalInteger(body, 'social', 0, 1);
  if (!portal.users.has(userId)) {
    throw new Problem(400, 'No NoPass user with this user id is registered for this portal.', {
      envelopeCode: 'UserNotFound',
    });
  }
  const auth = startAuth(sim, portal, userId);
  sim.log.info({ portal_id: portal.portalId, nopass_op: 'RequestAuthorization' }, 'auth started');
  return { authId: auth.authId, image: auth.image, nextChange: auth.nextChange, loginUrl: null };
}
