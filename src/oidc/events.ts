/**
 * oidc-provider reports what happens through events; this module is the one place that turns
 * them into log lines. The provider is never patched for this.
 */
import type { errors, KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { Logger } from '../log.ts';

const ERROR_EVENTS = [
  'authorization.error',
  'grant.error',
  'userinfo.error',
  'end_session.error',
  'introspection.error',
  'revocation.error',
  'backchannel.error',
] as const;

function clientOf(ctx: KoaContextWithOIDC): string | undefined {
  return ctx.oidc?.client?.clientId;
}

export function logProviderEvents(provider: Provider, log: Logger): void {
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => {
    log.error({ err: error, client_id: clientOf(ctx) }, 'oidc server error');
  });
  for (const event of ERROR_EVENTS) {
    // Client errors: expected in normal operation, so not at error level.
    const listener = (ctx: KoaContextWithOIDC, error: errors.OIDCProviderError): void => {
      log.info(
        {
          event,
          client_id: clientOf(ctx),
          error: error.error,
          error_description: error.error_description,
        },
        'oidc request refused',
      );
    };
    provider.on(event as 'authorization.error', listener);
  }
  provider.on('interaction.started', (ctx: KoaContextWithOIDC, prompt) => {
    log.info({ prompt: prompt.name, client_id: clientOf(ctx) }, 'interaction started');
  });
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    log.info({ client_id: clientOf(ctx) }, 'tokens issued');
  });
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    log.info({ client_id: clientOf(ctx) }, 'session ended');
  });
}
