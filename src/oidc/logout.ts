/**
 * Signing out, beyond what oidc-provider does by itself (the RP-initiated logout with its
 * confirmation page, and back-channel logout tokens to the relying parties of the session):
 *
 * - when a browser resumes its authorization after a NoPass approval, the approving authId is
 *   remembered under the OIDC session's uid (the store, so any instance can end the session);
 * - when the session ends (`end_session.success` with the whole session signed out), each of
 *   its NoPass authentications is closed with CloseAuthSession. That runs in the background:
 *   a slow or failing NoPass server is logged and never holds up the sign-out.
 *
 * Back-channel logout is sent by oidc-provider itself, to every relying party of the session at
 * once, each with its fixed timeout of 2.5 s; one that fails or does not answer in time is
 * reported as `backchannel.error` (logged in events.ts) and the sign-out carries on.
 *
 * A deleted user's sessions end the same way (logoutDeletedAccount).
 */
import type { Client, KoaContextWithOIDC, Provider } from 'oidc-provider';
import { authRef, type Logger } from '../log.ts';
import type { NoPassClient } from '../nopass/types.ts';
import type { Store } from '../state/types.ts';
import type { DeletionHook } from '../users/deletion.ts';

export interface LogoutDeps {
  provider: Provider;
  store: Store;
  nopass: NoPassClient;
  log: Logger;
  /** How long a session may live: the lifetime of what is remembered about it. */
  sessionTtlMs: number;
}

/**
 * oidc-provider's `fetch`, for back-channel logout (the only outbound call the bridge's
 * configuration makes it do). Its default connection refuses private and loopback addresses,
 * a guard against clients that register themselves; the bridge's clients come from the
 * operator's clients file, and an organisation's applications often live on such addresses.
 * The provider's own timeout (`signal`) is kept.
 */
export function backchannelFetch(input: string | URL | Request, init?: RequestInit) {
  const options = { ...init } as RequestInit & { dispatcher?: unknown };
  delete options.dispatcher;
  return fetch(input, options);
}

/** Closes the NoPass authentications behind one ended session; never throws. */
export async function closeSessionAuths(
  deps: Omit<LogoutDeps, 'provider' | 'sessionTtlMs'>,
  sessionUid: string,
): Promise<void> {
  let authIds: string[];
  try {
    authIds = await deps.store.takeSessionAuths(sessionUid);
  } catch (error) {
    deps.log.warn({ err: error }, 'nopass sessions of an ended session unknown');
    return;
  }
  await Promise.all(
    authIds.map(async (authId) => {
      try {
        await deps.nopass.closeAuthSession(authId);
        deps.log.info({ auth_ref: authRef(authId) }, 'nopass session closed');
      } catch (error) {
        // The NoPass client has logged the failure itself; this line ties it to the sign-out.
        deps.log.warn({ auth_ref: authRef(authId), err: error }, 'nopass session not closed');
      }
    }),
  );
}

/** Wires both halves described in the module comment into the provider. */
export function closeNoPassSessionsOnLogout(deps: LogoutDeps): void {
  const { provider, store, log } = deps;

  provider.use(async (koa, next) => {
    await next();
    // Routes that are not OpenID Connect's (a 404) have no `oidc`.
    const { oidc } = koa as Partial<KoaContextWithOIDC>;
    if (oidc?.route !== 'resume') return;
    const login = oidc.result?.login;
    const session = oidc.session;
    const interaction = oidc.entities.Interaction;
    if (!login || !interaction || !session?.uid || session.accountId !== login.accountId) return;
    try {
      const pending = await store.getLoginByInteraction(interaction.uid);
      if (pending?.consumed && pending.userId === login.accountId) {
        await store.addSessionAuth(session.uid, pending.authId, deps.sessionTtlMs);
      }
    } catch (error) {
      // The sign-in itself succeeded; only its NoPass session will not be closed at sign-out.
      log.warn({ err: error }, 'nopass session not remembered for sign-out');
    }
  });

  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    // Without `logout` only the asking client was signed out, and the session lives on.
    const uid = ctx.oidc.session?.uid;
    if (!ctx.oidc.params?.logout || !uid) return;
    void closeSessionAuths(deps, uid);
  });
}

/** The method oidc-provider's own sign-out uses to send one relying party its logout token. */
interface BackchannelClient {
  backchannelLogout(sub: string, sid: string): Promise<void>;
}

/**
 * A step of deleting a user (users/deletion.ts, `beforeRevoke`): each of the user's sessions
 * ends as a sign-out would end it. Its relying parties that registered a back-channel URI get a
 * logout token, its NoPass authentications are closed, and the consents the user gave are
 * forgotten. A relying party or NoPass failing is logged; the deletion carries on.
 */
export function logoutDeletedAccount(deps: LogoutDeps): DeletionHook {
  const { provider, store, log } = deps;
  const notify = async (client: Client, sub: string, sid: string): Promise<void> => {
    try {
      await (client as unknown as BackchannelClient).backchannelLogout(sub, sid);
      log.info({ client_id: client.clientId }, 'back-channel logout sent');
    } catch (error) {
      log.warn({ client_id: client.clientId, err: error }, 'back-channel logout failed');
    }
  };

  return async (account) => {
    const sessions = store.oidcAdapter('Session');
    for (const sessionId of account.sessionIds) {
      const session = await sessions.find(sessionId);
      if (!session) continue;
      const authorizations = (session.authorizations ?? {}) as Record<string, { sid?: unknown }>;
      await Promise.all(
        Object.entries(authorizations).map(async ([clientId, { sid }]) => {
          const client = await provider.Client.find(clientId);
          if (client?.backchannelLogoutUri && typeof sid === 'string') {
            await notify(client, account.userId, sid);
          }
        }),
      );
      if (typeof session.uid === 'string') await closeSessionAuths(deps, session.uid);
    }
    await store.forgetConsents(account.userId);
  };
}
