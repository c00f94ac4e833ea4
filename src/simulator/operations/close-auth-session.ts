/**
 * CloseAuthSession: the portal says an authentication's session is over (the user signed out).
 * A still-waiting authentication stops rotating. Closing twice is fine; closing an authId this
 * portal never received is a 400, which catches a portal sending the wrong id.
 */
import { stopAuth } from '../auth-sessions.ts';
import { Problem, requiredText } from '../http.ts';
import type { OperationInput } from '../server-api.ts';

export function closeAuthSession({ sim, portal, body }: OperationInput): string {
  const authId = requiredText(body, 'authId', { max: 256 });
  const auth = sim.auths.get(authId);
  if (!auth || auth.portalId !== portal.portalId) {
    throw new Problem(400, 'No authentication with this authId belongs to this portal.', {
      envelopeCode: 'AuthNotFound',
    });
  }
  stopAuth(auth);
  auth.closedAt ??= sim.now();
  return 'Authentication session closed.';
}
