/**
 * AuthorizedUser: the user approved or refused the sign-in in the NoPass app. The first verdict
 * is final; a second one, even a contradicting one, is refused and changes nothing. The waiting
 * page is told, and carries on (approved) or shows the reason as plain text (refused).
 */
import { defineOperation, announce } from './operation.ts';
import { loginRefusal } from './refusals.ts';
import { authorizedUserSchema } from './schema.ts';

export const authorizedUser = defineOperation({
  name: 'AuthorizedUser',
  schema: authorizedUserSchema,
  authId: (input) => input.authId,
  async handle(input, deps) {
    const update = await deps.store.settleLogin(
      input.authId,
      input.isAuthorized,
      input.reason,
      deps.now(),
      input.userId || undefined,
    );
    if (!update.ok) throw loginRefusal(update.reason);

    const { login } = update;
    const verdict = input.isAuthorized ? 'approved' : 'refused';
    deps.annotate?.({ interaction_uid: login.interactionUid, verdict });
    deps.metrics.verdictSeconds.observe(
      { verdict },
      Math.max(0, (login.verdictAt ?? deps.now()) - login.createdAt) / 1000,
    );
    if (!input.isAuthorized) deps.metrics.signInsEnded.inc({ outcome: 'refused' });
    await announce(deps, { authId: input.authId, kind: 'verdict' });
    return {};
  },
});
