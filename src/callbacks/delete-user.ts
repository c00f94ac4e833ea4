/**
 * DeleteUser: the user's NoPass account for this portal is gone, so the bridge forgets the user
 * and revokes every grant, token and session it issued them (users/deletion.ts). NoPass sends
 * it before answering the portal's own DeleteInitialPortal, or on its own; either way it is
 * answered 200 every time for this portal, even when there was nothing left to delete, so a
 * repeated call, or one racing the operator's own deletion, is not mistaken for a refusal.
 */
import { createUserDeletion } from '../users/deletion.ts';
import { defineOperation } from './operation.ts';
import { deleteUserSchema } from './schema.ts';
import { assertThisPortal } from './this-portal.ts';

export const deleteUser = defineOperation({
  name: 'DeleteUser',
  schema: deleteUserSchema,
  async handle(input, deps) {
    await assertThisPortal(deps, input.portalId);

    const deletion = deps.deletion ?? createUserDeletion({ store: deps.store, log: deps.log });
    const report = await deletion.deleteUser(input.userId, 'nopass');
    deps.annotate?.({ user_existed: report.existed, grants_revoked: report.grants });
    return {};
  },
});
