/**
 * oidc-provider reports what happens through events; this module is the one place that turns
 * them into log lines and metrics. The provider is never patched for this.
 *
 * Each line is written with the logger of the request it happened in (so it carries the request
 * id), plus the client and, within a sign-in, the interaction uid. Expected refusals (a bad
 * parameter, a used code) are info; only the provider's own failures are errors.
 */
import type { errors, KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { Metrics } from '../http/metrics.ts';
import type { RequestLogs } from '../http/request-id.ts';
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

export interface ProviderEventDeps {
  /** Each request's logger; the root logger outside a request. */
  requestLogs: RequestLogs;
  metrics: Metrics;
}

/** The fields every provider line carries. */
function fieldsOf(ctx: KoaContextWithOIDC | undefined): Record<string, unknown> {
  const oidc = ctx?.oidc;
  return {
    client_id: oidc?.client?.clientId,
    interaction_uid: oidc?.entities?.Interaction?.uid,
  };
}

export function logProviderEvents(provider: Provider, deps: ProviderEventDeps): void {
  const { requestLogs, metrics } = deps;
  const logOf = (ctx: KoaContextWithOIDC | undefined): Logger => requestLogs.of(ctx?.req);
  const count = (event: string): void => metrics.oidcEvents.inc({ event });

  provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => {
    count('server_error');
    logOf(ctx).error({ err: error, ...fieldsOf(ctx) }, 'oidc server error');
  });
  for (const event of ERROR_EVENTS) {
    const listener = (ctx: KoaContextWithOIDC, error: errors.OIDCProviderError): void => {
      count(event);
      logOf(ctx).info(
        {
          event,
          ...fieldsOf(ctx),
          error: error.error,
          error_description: error.error_description,
        },
        'oidc request refused',
      );
    };
    provider.on(event as 'authorization.error', listener);
  }
  provider.on('interaction.started', (ctx: KoaContextWithOIDC, prompt) => {
    count('interaction.started');
    logOf(ctx).info({ prompt: prompt.name, ...fieldsOf(ctx) }, 'interaction started');
  });
  provider.on('interaction.ended', (ctx: KoaContextWithOIDC) => {
    logOf(ctx).info(fieldsOf(ctx), 'interaction resumed');
  });
  provider.on('authorization.success', (ctx: KoaContextWithOIDC) => {
    count('authorization.success');
    logOf(ctx).info(fieldsOf(ctx), 'authorization response sent');
  });
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    count('grant.success');
    const grantType = ctx.oidc?.params?.grant_type;
    logOf(ctx).info({ ...fieldsOf(ctx), grant_type: grantType }, 'tokens issued');
  });
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC) => {
    count('grant.revoked');
    logOf(ctx).info(fieldsOf(ctx), 'grant revoked');
  });
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    count('end_session.success');
    logOf(ctx).info(fieldsOf(ctx), 'session ended');
  });
  provider.on('backchannel.success', (ctx: KoaContextWithOIDC) => {
    count('backchannel.success');
    logOf(ctx).info(fieldsOf(ctx), 'back-channel logout delivered');
  });
}
