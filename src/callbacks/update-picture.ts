/**
 * UpdatePicture: NoPass has a new picture for a sign-in in progress. It replaces the stored one
 * (with a new deadline: its lifetime plus the grace period) and the waiting page is told.
 */
import { defineOperation, announce } from './operation.ts';
import { loginRefusal } from './refusals.ts';
import { updatePictureSchema } from './schema.ts';

export const updatePicture = defineOperation({
  name: 'UpdatePicture',
  schema: updatePictureSchema,
  authId: (input) => input.authId,
  async handle(input, deps) {
    const now = deps.now();
    const update = await deps.store.updatePicture(
      input.authId,
      {
        image: input.image,
        nextChange: input.nextChange,
        deadline: now + input.nextChange + deps.settings.pictureGraceMs,
      },
      now,
    );
    if (!update.ok) throw loginRefusal(update.reason);
    deps.annotate?.({ interaction_uid: update.login.interactionUid });

    await announce(deps, { authId: input.authId, kind: 'picture' });
    return {};
  },
});
