/**
 * UpdateUser: NoPass tells the portal that a user's details changed. The changes are checked
 * as a whole and applied atomically (users/updates.ts); `forbiddenStore` removes the stored
 * value. A user the directory does not know is a 400, as is a call for another portal.
 */
import { BridgeError } from '../http/errors.ts';
import { applyChanges, checkUpdates } from '../users/updates.ts';
import { defineOperation } from './operation.ts';
import { updateUserSchema } from './schema.ts';
import { assertThisPortal } from './this-portal.ts';

export const updateUser = defineOperation({
  name: 'UpdateUser',
  schema: updateUserSchema,
  async handle(input, deps) {
    await assertThisPortal(deps, input.portalId);

    const checked = checkUpdates(input.userId, input.updates);
    if (!checked.ok) {
      const { problem } = checked;
      if (problem.kind === 'login_change') {
        throw new BridgeError(
          400,
          'login_change_not_supported',
          'The login of a user cannot change here: it is the subject of the tokens issued.',
        );
      }
      throw new BridgeError(
        400,
        'invalid_request',
        `Invalid UpdateUser body: updates.${problem.key}.newValue: ${problem.problem}.`,
      );
    }

    const updated = await deps.store.changeUser(input.userId, (user) =>
      applyChanges(user, checked.changes),
    );
    if (!updated) {
      throw new BridgeError(400, 'unknown_user', 'No user with this user id is known here.');
    }
    deps.annotate?.({ fields_changed: checked.changes.map((change) => change.key) });
    return {};
  },
});
