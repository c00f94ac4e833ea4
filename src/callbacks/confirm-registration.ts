/**
 * ConfirmRegistration: the last call of a portal registration. NoPass hands over the portalId
 * and the authToken that every later outbound call needs, and expects the S-code back.
 *
 * Like ConfirmPreRegistration it is answered only while a registration is awaited, and the
 * first registration stored wins. Through a window the operator opened, the stored registration
 * is replaced, once: the first call to claim the window wins and closes it. The call itself carries no secret the bridge could check, so
 * between start-up and the administrator's registration anyone who can reach this path could
 * register first; NOPASS_CALLBACK_ALLOW and a secret NOPASS_CALLBACK_PREFIX close that window,
 * and so does supplying NOPASS_PORTAL_ID and NOPASS_AUTH_TOKEN, which closes registration.
 */
import { BridgeError } from '../http/errors.ts';
import { assertRegistrationAwaited } from './confirm-pre-registration.ts';
import { defineOperation } from './operation.ts';
import { confirmRegistrationSchema } from './schema.ts';

export const confirmRegistration = defineOperation({
  name: 'ConfirmRegistration',
  schema: confirmRegistrationSchema,
  async handle(input, deps) {
    const awaited = await assertRegistrationAwaited(deps);

    const portal = {
      portalId: input.portalId,
      authToken: input.authToken,
      registeredAt: deps.now(),
    };
    let stored: boolean;
    if (awaited === 'first') {
      stored = await deps.store.setPortalIfAbsent(portal);
    } else {
      stored = await deps.store.claimPortalWindow(deps.now());
      if (stored) await deps.store.replacePortal(portal);
    }
    // Another instance (or a concurrent call) stored one, or used the window, since the check.
    if (!stored) {
      throw new BridgeError(
        409,
        'registration_not_awaited',
        'This bridge is already registered as a NoPass portal.',
      );
    }

    deps.log.info(
      { portal_id: input.portalId, replaced: awaited === 'window' },
      'portal registered',
    );
    return { sCode: deps.settings.sCode };
  },
});
