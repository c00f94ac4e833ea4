/**
 * The account calls (UpdateUser, DeleteUser) name the portal they are for. A call naming another
 * portal is refused: it was meant for another site, or is someone guessing.
 */
import { BridgeError } from '../http/errors.ts';
import type { CallbackDeps } from './operation.ts';

/** Refuses with 400 `wrong_portal` unless `portalId` is this bridge's portal. */
export async function assertThisPortal(deps: CallbackDeps, portalId: string): Promise<void> {
  const portal = deps.settings.configuredPortal ?? (await deps.store.getPortal());
  if (portal?.portalId !== portalId) {
    throw new BridgeError(400, 'wrong_portal', 'The portalId is not the portal of this service.');
  }
}
