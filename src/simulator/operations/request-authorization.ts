/**
 * RequestAuthorization: starts an authentication for a user the portal knows. The reply
 * carries the first picture; the next ones reach the portal as UpdatePicture.
 *
 * With `social` (0 Google, 1 Facebook) and an empty user id it starts a social network sign-in
 * instead, and `loginUrl` leads to the simulator's social sign-in page (social.ts), where a
 * person plays the social network and says which NoPass user they are. Otherwise `loginUrl` is
 * null: a user id names the user, and `social` beside it changes nothing.
 */
import { approveAtOnce, startAuth } from '../auth-sessions.ts';
import { optionalInteger, Problem, requiredText } from '../http.ts';
import type { OperationInput } from '../server-api.ts';

/** The envelope's `result` for RequestAuthorization. */
export interface AuthorizationResult {
  authId: string;
  image: string;
  nextChange: number;
  loginUrl: string | null;
}

const NETWORKS = ['google', 'facebook'] as const;

export function requestAuthorization({
  sim,
  portal,
  body,
  baseUrl,
}: OperationInput): AuthorizationResult {
  // Empty is allowed on the wire: a social sign-in names no user.
  const userId = requiredText(body, 'userId', { max: 36, allowEmpty: true });
  const social = optionalInteger(body, 'social', 0, 1);
  if (social !== undefined && userId === '') {
    const auth = startAuth(sim, portal, '', NETWORKS[social]);
    sim.log.info({ portal_id: portal.portalId, nopass_op: 'RequestAuthorization' }, 'auth started');
    // No automatic approval here: only the person on the social page can say who they are.
    return {
      authId: auth.authId,
      image: auth.image,
      nextChange: auth.nextChange,
      loginUrl: `${baseUrl}/social/${encodeURIComponent(auth.authId)}`,
    };
  }
  if (!portal.users.has(userId)) {
    throw new Problem(400, 'No NoPass user with this user id is registered for this portal.', {
      envelopeCode: 'UserNotFound',
    });
  }
  const auth = startAuth(sim, portal, userId);
  if (sim.faults.autoApprove) approveAtOnce(sim, auth);
  sim.log.info({ portal_id: portal.portalId, nopass_op: 'RequestAuthorization' }, 'auth started');
  return { authId: auth.authId, image: auth.image, nextChange: auth.nextChange, loginUrl: null };
}
