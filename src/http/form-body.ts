/**
 * Reading the body of the bridge's own HTML forms: URL-encoded, at most 16 kB, and never
 * compressed. Browsers do not compress what a form sends, so a Content-Encoding other than
 * `identity` is refused with a 415 before the parser sees the body: left to the parser, an
 * encoding it does not know, or a gzip, deflate or brotli body that does not inflate, fails
 * with an error that carries no client status and would be answered as a 500.
 */
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware, Next } from 'koa';
import { BridgeError } from './errors.ts';

export function formBody(): Middleware {
  const parse = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  return async function readForm(ctx: Context, next: Next): Promise<void> {
    const encoding = (ctx.get('content-encoding') || 'identity').trim().toLowerCase();
    if (encoding !== 'identity') {
      throw new BridgeError(415, 'unsupported_media_type', 'Forms must be sent uncompressed.');
    }
    await parse(ctx, next);
  };
}
