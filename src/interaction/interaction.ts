/**
 * Loading the oidc-provider interaction behind a page. oidc-provider finds it through the
 * interaction cookie, which only the browser that started the sign-in holds: this is what binds
 * every page, the event stream and the completion to that browser.
 */
import type { Context } from 'koa';
import { errors, type Interaction, type Provider } from 'oidc-provider';
import { BridgeError } from '../http/errors.ts';
import { bindLog } from '../http/request-id.ts';

/** The interaction is gone, expired, or belongs to another browser. */
export class InteractionNotFound extends BridgeError {
  constructor(cause?: unknown) {
    super(
      400,
      'interaction_not_found',
      'This sign-in has already finished, has expired, or was started in another browser. Go ' +
        'back to the application and sign in again.',
      { cause },
    );
  }
}

export async function loadInteraction(provider: Provider, ctx: Context): Promise<Interaction> {
  let details: Interaction;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (error) {
    if (error instanceof errors.SessionNotFound) throw new InteractionNotFound(error);
    throw error;
  }
  // The cookie names one interaction; the URL must name the same one.
  if (details.uid !== (ctx.params as { uid?: string }).uid) throw new InteractionNotFound();
  // From here on, every line of this request names the sign-in it belongs to.
  bindLog(ctx, { interaction_uid: details.uid });
  // Pages of this sign-in speak the language the relying party asked for, if supported.
  (ctx.state as { uiLocales?: unknown }).uiLocales = details.params.ui_locales;
  return details;
}
