/**
 * DeleteInitialPortal: deletes a user. As the guide says, the server first tells the portal
 * (DeleteUser) and answers only afterwards, so by the time the portal reads the answer its own
 * DeleteUser handler has run. The portal's answer to DeleteUser is recorded but does not change
 * the outcome: the user is gone from NoPass either way.
 */
import { randomUUID } from 'node:crypto';
import { stopAuth } from '../auth-sessions.ts';
import { Problem, requiredText } from '../http.ts';
import { callPortal } from '../portal-calls.ts';
import type { OperationInput } from '../server-api.ts';

/** Returns the deletion session id. */
export async function deleteInitialPortal({ sim, portal, body }: OperationInput): Promise<string> {
  const userId = requiredText(body, 'userId', { max: 36 });
  if (!portal.users.has(userId)) {
    throw new Problem(400, 'No NoPass user with this user id is registered for this portal.', {
      envelopeCode: 'UserNotFound',
    });
  }
  await callPortal(sim, portal, 'DeleteUser', { userId, portalId: portal.portalId });
  portal.users.delete(userId);
  for (const auth of sim.auths.values()) {
    if (auth.portalId === portal.portalId && auth.userId === userId) stopAuth(auth);
  }
  return randomUUID();
}
