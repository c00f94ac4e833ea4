/**
 * ConfirmUserRegistration: NoPass has registered the user. The bridge creates the user in its
 * directory (with the details the policy accepted) and marks the registration confirmed, once:
 * a repeated call is answered 200 again and changes nothing. When the user id was taken in the
 * meantime, the registration is refused, so the browser coming back is told why.
 */
import { BridgeError } from '../http/errors.ts';
import { defineOperation } from './operation.ts';
import { confirmUserRegistrationSchema } from './schema.ts';
import { unknownRegistration } from './validate-user-registration.ts';

export const confirmUserRegistration = defineOperation({
  name: 'ConfirmUserRegistration',
  schema: confirmUserRegistrationSchema,
  async handle(input, deps) {
    const update = await deps.store.confirmRegistration(
      input.otp,
      deps.now(),
      // The browser may come back a while after NoPass confirmed: it gets a lifetime again.
      deps.settings.registration.ttlMs,
    );
    if (update.ok) {
      deps.annotate?.({ registration_status: 'confirmed' });
      return {};
    }

    switch (update.reason) {
      case 'refused':
        throw new BridgeError(
          400,
          'registration_refused',
          'This registration was refused by the registration policy.',
        );
      case 'user_exists':
        await deps.store.settleRegistration(input.otp, {
          accepted: false,
          refusal: 'user_exists',
        });
        throw new BridgeError(400, 'user_exists', 'A user with this user id exists already.');
      default:
        throw unknownRegistration();
    }
  },
});
