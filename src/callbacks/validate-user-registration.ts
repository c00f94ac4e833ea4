/**
 * ValidateUserRegistration: the person finished registering in the NoPass app, and NoPass asks
 * whether this portal accepts the user with the details it sends. The registration policy
 * decides (users/registration-policy.ts); its verdict is kept under the otp, for
 * ConfirmUserRegistration and for the page the browser comes back to. The reply is the bare
 * boolean the guide describes. NoPass may ask again; the last verdict counts until the
 * registration is confirmed, after which it is answered `true` without change.
 */
import { BridgeError } from '../http/errors.ts';
import { judgeRegistration } from '../users/registration-policy.ts';
import { defineOperation } from './operation.ts';
import { validateUserRegistrationSchema } from './schema.ts';

/** An otp that names no registration in progress (never started here, or expired). */
export function unknownRegistration(): BridgeError {
  return new BridgeError(
    400,
    'unknown_registration',
    'No registration in progress has this otp; it may have expired.',
  );
}

export const validateUserRegistration = defineOperation({
  name: 'ValidateUserRegistration',
  schema: validateUserRegistrationSchema,
  async handle(input, deps) {
    const registration = await deps.store.getRegistration(input.otp);
    if (!registration) throw unknownRegistration();

    const existing = await deps.store.getUser(registration.userId);
    const verdict = judgeRegistration(registration, input, deps.settings.registration, existing);
    const update = await deps.store.settleRegistration(input.otp, verdict);
    if (!update.ok) {
      if (update.reason === 'confirmed') return true;
      throw unknownRegistration();
    }

    deps.annotate?.({
      registration_status: update.registration.status,
      refusal: verdict.accepted ? undefined : verdict.refusal,
    });
    return verdict.accepted;
  },
});
