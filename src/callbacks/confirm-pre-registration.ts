/**
 * ConfirmPreRegistration: the first call of a portal registration. An administrator has typed
 * this bridge's admin id and S-code into NoPass's registration page; NoPass asks whether the
 * admin id is right and expects the S-code back.
 *
 * The vendor's sample answers anyone who knows the admin id, at any time, and so hands out the
 * S-code. Here the call is answered only while a registration is awaited: no portal was
 * configured by the operator and either none has been registered yet, or the operator opened
 * a window for registering again (`nopass-bridge portal open-window <minutes>`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BridgeError } from '../http/errors.ts';
import { defineOperation, type CallbackDeps } from './operation.ts';
import { confirmPreRegistrationSchema } from './schema.ts';

/**
 * Refuses unless the bridge is waiting for its portal registration: says whether this is the
 * first one (`first`) or one replacing the stored registration through an open window.
 */
export async function assertRegistrationAwaited(deps: CallbackDeps): Promise<'first' | 'window'> {
  if (deps.settings.configuredPortal) {
    throw new BridgeError(
      409,
      'registration_not_awaited',
      'This bridge uses a portal registration set by its operator and accepts no other.',
    );
  }
  if (!(await deps.store.getPortal())) return 'first';
  if ((await deps.store.getPortalWindow(deps.now())) !== undefined) return 'window';
  throw new BridgeError(
    409,
    'registration_not_awaited',
    'This bridge is already registered as a NoPass portal.',
  );
}

/** Compares two secrets in time that depends on neither their content nor their length. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export const confirmPreRegistration = defineOperation({
  name: 'ConfirmPreRegistration',
  schema: confirmPreRegistrationSchema,
  async handle(input, deps) {
    // Checked first, so a closed registration is no oracle for guessing the admin id.
    await assertRegistrationAwaited(deps);

    if (!sameSecret(input.adminId, deps.settings.adminId)) {
      throw new BridgeError(400, 'invalid_admin_id', 'The admin id does not match this portal.');
    }
    return { adminId: deps.settings.adminId, sCode: deps.settings.sCode, r: input.r + 1 };
  },
});
