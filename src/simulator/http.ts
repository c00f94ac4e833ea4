/**
 * HTTP plumbing shared by the simulator's routes: one error type with a status, the JSON error
 * reply used by the control API and the pages (`{ error, error_description }`), the 404 for
 * unknown routes, and checks for the fields of request bodies. The server operations answer
 * errors in NoPass's envelope instead (see server-api.ts), from the same error type.
 */
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { isJsonObject, readField, type JsonObject } from './casing.ts';

/** A failure with an HTTP status whose message is safe to send back (below 500). */
export class Problem extends Error {
  readonly status: number;
  /** Machine code for the control API's `error` field. */
  readonly code: string;
  /** Code for the `errors` array of NoPass's envelope, when it differs from the default. */
  readonly envelopeCode: string | undefined;
  /** Read by Koa: the message may reach the client. */
  readonly expose: boolean;

  constructor(
    status: number,
    message: string,
    options: { code?: string; envelopeCode?: string } = {},
  ) {
    super(message);
    this.name = 'Problem';
    this.status = status;
    this.code = options.code ?? CODES[status] ?? 'error';
    this.envelopeCode = options.envelopeCode;
    this.expose = status < 500;
  }
}

const CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  500: 'server_error',
  502: 'bad_gateway',
};

/** The status and a client-safe message of anything thrown by a route or by a library. */
export function describeError(error: unknown): { status: number; code: string; message: string } {
  const rawStatus = property(error, 'status');
  const status =
    typeof rawStatus === 'number' && rawStatus >= 400 && rawStatus <= 599 ? rawStatus : 500;
  const code = error instanceof Problem ? error.code : (CODES[status] ?? 'error');
  // Libraries (the body parser) mark their client errors with `expose`; anything else stays
  // generic so no internal detail leaves the process.
  const rawMessage = property(error, 'message');
  const exposed =
    status < 500 && property(error, 'expose') !== false && typeof rawMessage === 'string';
  const message = exposed ? rawMessage : 'The simulator failed to handle this request.';
  return { status, code, message };
}

function property(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** Catches every error below it and answers `{ error, error_description }` as JSON. */
export function jsonErrors(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const { status, code, message } = describeError(error);
      if (status >= 500) log.error({ err: error, path: ctx.path }, 'simulator request failed');
      ctx.status = status;
      ctx.body = { error: code, error_description: message };
    }
  };
}

/** Answers a JSON 404 for every route nothing else answered. */
export const notFound: Middleware = async (ctx, next) => {
  await next();
  if (ctx.body === undefined && ctx.status === 404) {
    ctx.status = 404;
    ctx.body = { error: 'not_found', error_description: `Nothing here: ${ctx.method} ${ctx.path}` };
  }
};

/** The parsed body of a request as an object, or a 400. */
export function bodyObject(body: unknown): JsonObject {
  if (body === undefined) return {};
  if (!isJsonObject(body)) throw new Problem(400, 'The request body must be a JSON object.');
  return body;
}

interface TextRule {
  /** Longest accepted value, in characters. */
  max: number;
  /** Whether an empty string is accepted; by default it is not. */
  allowEmpty?: boolean;
}

/** The string field `name` (any casing), or a 400 naming it. */
export function requiredText(body: JsonObject, name: string, rule: TextRule): string {
  const value = optionalText(body, name, rule);
  if (value === undefined) throw new Problem(400, `${name} is required.`);
  return value;
}

/** The string field `name` (any casing) when present and not null, or a 400 naming it. */
export function optionalText(body: JsonObject, name: string, rule: TextRule): string | undefined {
  const value = readField(body, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new Problem(400, `${name} must be a string.`);
  if (value === '' && !rule.allowEmpty) throw new Problem(400, `${name} must not be empty.`);
  if (value.length > rule.max) {
    throw new Problem(400, `${name} must be at most ${rule.max} characters long.`);
  }
  return value;
}

/** The whole-number field `name` (any casing) within bounds, when present. */
export function optionalInteger(
  body: JsonObject,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const value = readField(body, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Problem(400, `${name} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

/** The boolean field `name` (any casing), when present. */
export function optionalBoolean(body: JsonObject, name: string): boolean | undefined {
  const value = readField(body, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new Problem(400, `${name} must be true or false.`);
  return value;
}

/**
 * An absolute http(s) URL, trailing slashes removed, or a 400. A base URL (`allowQuery` unset)
 * must not carry a query or fragment, since paths are appended to it.
 */
export function httpUrl(value: string, name: string, allowQuery = false): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new Problem(400, `${name} must be an absolute URL.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Problem(400, `${name} must be an http or https URL.`);
  }
  if (allowQuery) return parsed.href;
  if (parsed.search || parsed.hash) {
    throw new Problem(400, `${name} must not carry a query or fragment.`);
  }
  return parsed.href.replace(/\/+$/, '');
}

/**
 * The simulator's base URL for links it hands out: the configured public URL, else the scheme
 * and Host of the request. The Host header is the caller's word, which is fine for links a
 * development tool shows back to that same caller.
 */
export function baseUrl(publicUrl: string | undefined, ctx: Context): string {
  return publicUrl ?? `${ctx.protocol}://${ctx.host}`;
}
