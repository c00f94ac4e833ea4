/**
 * Reading a callback's body. Only the callback routes read bodies this way; the OpenID Connect
 * routes get theirs untouched, as oidc-provider requires.
 *
 * A body must be declared JSON, in UTF-8, uncompressed and at most `MAX_BODY_BYTES`. The JSON
 * media types are those ASP.NET Core's JSON input reads, since the vendor's own portal sample
 * accepts exactly those: `application/json`, `text/json` and any `application/*+json` (the
 * vendor's `application/json-patch+json` included). Property names are then rewritten to the
 * schemas' camelCase, whatever casing the NoPass server used (see nopass/casing.ts).
 */
import type { Context } from 'koa';
import getRawBody, { type RawBodyError } from 'raw-body';
import { BadRequest, BridgeError } from '../http/errors.ts';
import { canonicalKeys, type Vocabulary } from '../nopass/casing.ts';

/** Largest callback body read. The largest real one, UpdatePicture, is a few kilobytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

const JSON_TYPES = ['application/json', 'text/json', 'application/*+json'];

function unsupported(description: string): BridgeError {
  return new BridgeError(415, 'unsupported_media_type', description);
}

/** Turns raw-body's failures into the callback's answers. */
function readFailure(error: RawBodyError, limitBytes: number): BridgeError {
  if (error.type === 'entity.too.large') {
    return new BridgeError(413, 'body_too_large', `The body is larger than ${limitBytes} bytes.`, {
      cause: error,
    });
  }
  if (error.type === 'encoding.unsupported') {
    return unsupported('Callback bodies must be UTF-8 JSON.');
  }
  // Aborted uploads and a length that does not match Content-Length.
  return new BadRequest('The body could not be read completely.', { cause: error });
}

/**
 * The parsed JSON body of a callback request, property names in the vocabulary's casing. Throws
 * a `BridgeError`: 415 for a body that is not UTF-8 JSON, 413 for one over `limitBytes`, 400 for
 * one that is missing, cut short, not JSON, or ambiguous (one name in two casings).
 */
export async function readJsonBody(
  ctx: Context,
  vocabulary: Vocabulary,
  limitBytes = MAX_BODY_BYTES,
): Promise<unknown> {
  const type = ctx.request.is(JSON_TYPES);
  if (type === null) throw new BadRequest('A JSON body is required.');
  if (type === false) throw unsupported('Callback bodies must be JSON (application/json).');

  const charset = ctx.request.charset.toLowerCase();
  if (charset !== '' && charset !== 'utf-8' && charset !== 'utf8') {
    throw unsupported('Callback bodies must be UTF-8 JSON.');
  }
  const encoding = (ctx.get('content-encoding') || 'identity').toLowerCase();
  if (encoding !== 'identity') throw unsupported('Callback bodies must not be compressed.');

  let text: string;
  try {
    text = await getRawBody(ctx.req, {
      length: ctx.get('content-length') || undefined,
      limit: limitBytes,
      encoding: 'utf-8',
    });
  } catch (error) {
    throw readFailure(error as RawBodyError, limitBytes);
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message quotes the body; it is neither kept nor shown.
    throw new BridgeError(400, 'invalid_json', 'The body is not valid JSON.');
  }
  return canonicalKeys(json, vocabulary);
}
