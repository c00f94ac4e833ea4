/**
 * The answer for a request nothing routes: an address neither the bridge nor oidc-provider
 * knows gets 404, and a known address asked with a method it does not take gets 405 with an
 * Allow header. People get the bridge's error page with a link to the start page, machines
 * `{ error, error_description }`; never a framework's bare text.
 */
import type { Context, Next } from 'koa';
import { providerRoute } from '../oidc/provider.ts';
import type { Views } from './views.ts';

export function unrouted(views: Views) {
  return async function answerUnrouted(ctx: Context, next: Next): Promise<void> {
    const provider = providerRoute(ctx.path, ctx.method);
    // The provider answers OPTIONS only as a CORS preflight; a plain one is the bridge's to answer.
    const plainOptions = ctx.method === 'OPTIONS' && !ctx.get('access-control-request-method');
    if (provider.handles && !plainOptions) {
      await next();
      return;
    }
    // The bridge's own routers record the routes whose path matched whatever the method.
    const matched = (ctx as { matched?: { methods: string[] }[] }).matched ?? [];
    const allowed = new Set([...matched.flatMap((layer) => layer.methods), ...provider.allowed]);
    const known = allowed.size > 0;
    if (known && ctx.method === 'OPTIONS') {
      // Asking which methods an address takes is a fair question.
      ctx.status = 204;
      ctx.set('Allow', [...new Set([...allowed, 'OPTIONS'])].join(', '));
      return;
    }
    const code = known ? 'method_not_allowed' : 'not_found';
    ctx.status = known ? 405 : 404;
    if (known) ctx.set('Allow', [...allowed].join(', '));
    if (ctx.accepts('json', 'html') === 'html') {
      ctx.type = 'html';
      ctx.body = views.page(ctx, 'error', {
        code: known ? code : 'page_not_found',
        titleKey: known ? undefined : 'error.notFoundTitle',
        backUrl: '/',
      });
      return;
    }
    ctx.body = {
      error: code,
      error_description: known
        ? `This address does not take ${ctx.method} requests.`
        : 'There is nothing at this address.',
    };
  };
}
