/**
 * The NoPass wire, outbound: the only code that knows how a call to the NoPass server looks and
 * how its answer is read. Every operation is a POST of a JSON body with the content type
 * `application/json-patch+json` and `Authorization: Bearer <authToken>`; every answer is JSON,
 * labelled `text/plain`, in the envelope `{ errors: [{ code, message }], result }`. A call
 * succeeded only when the status is 200 and `errors` is empty or absent.
 *
 * Failures leave here typed: `NoPassUnavailable` when the server cannot be reached, is too slow,
 * answers 5xx, or answers something that is not the envelope; `NoPassRefused` when it answers
 * with errors. Their descriptions are generic; the `detail` says what happened, and never holds
 * the URL, the token or the body's content.
 */
import got, { RequestError, type Response } from 'got';
import { z } from 'zod';
import { NoPassCredentialsRejected, NoPassRefused, NoPassUnavailable } from '../http/errors.ts';
import { canonicalKeys, describeIssues, vocabularyOf } from './casing.ts';

/** Largest answer read; NoPass answers are a picture of a few kilobytes plus a few strings. */
export const MAX_REPLY_BYTES = 2 * 1024 * 1024;

/** What NoPass handed out at portal registration; every outbound call needs both. */
export interface PortalCredentials {
  portalId: string;
  authToken: string;
}

/** One outbound call, as an operation module describes it. */
export interface NoPassCall {
  /** The operation's name, for logs and details. */
  op: string;
  /** Path below the server's base URL, starting with '/'. */
  path: string;
  authToken: string;
  /** Sent as JSON, field names as the guide spells them. */
  body: object;
  /**
   * Whether the call may be sent again after a failure. Only for operations whose repetition
   * changes nothing: starting a sign-in, a registration or a deletion twice is not harmless.
   */
  idempotent: boolean;
}

/** A successful answer: `result` as sent, plus every top-level member, both unchecked. */
export interface Envelope {
  result: unknown;
  members: Record<string, unknown>;
}

/** Sends one call and reads its envelope; throws `NoPassUnavailable` or `NoPassRefused`. */
export type SendCall = (call: NoPassCall) => Promise<Envelope>;

export interface EnvelopeOptions {
  /** The NoPass server's base URL; it may carry a path. */
  baseUrl: string;
  /** Budget for one attempt, from connecting to the last byte of the answer. */
  timeoutMs: number;
  maxReplyBytes?: number;
}

// The guide types both as strings; a number is read as its digits rather than failing the call.
const vendorText = z
  .union([z.string(), z.number().transform(String)])
  .nullish()
  .transform((value) => value?.slice(0, 2084) ?? undefined);

const vendorError = z.object({ code: vendorText, message: vendorText });

const envelopeSchema = z.looseObject({
  errors: z.array(vendorError).nullish(),
  result: z.unknown(),
});

const ENVELOPE_NAMES = vocabularyOf(envelopeSchema);

function unavailable(op: string, detail: string, cause?: unknown): NoPassUnavailable {
  return new NoPassUnavailable({ detail: `${op}: ${detail}`, cause });
}

/** Why got gave up, in words that carry no URL or header. */
function describeRequestError(error: RequestError, timeoutMs: number): string {
  if (error.code === 'ETIMEDOUT') return `no answer within ${timeoutMs} ms`;
  return `request failed (${error.code || error.name})`;
}

/** The JSON of an answer's body, or a description of why there is none. */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false; why: string } {
  const trimmed = text.trimStart();
  if (trimmed === '') return { ok: false, why: 'answered with an empty body' };
  if (trimmed.startsWith('<')) return { ok: false, why: 'answered with HTML or XML, not JSON' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // The parser's message quotes the body, which may hold a one-time password: not kept.
    return { ok: false, why: 'answered with unreadable or truncated JSON' };
  }
}

/** Checks the status and the envelope of an answer; returns it when the call succeeded. */
function readEnvelope(op: string, status: number, text: string): Envelope {
  // A server error is an outage whatever its body says.
  if (status >= 500) throw unavailable(op, `HTTP ${status}`);
  if (status === 401 || status === 403) {
    // Whatever the body: the server does not accept this portal at all: an operator's problem, not the user's.
    throw new NoPassCredentialsRejected({
      detail: `${op}: HTTP ${status}, portal credentials rejected (NOPASS_PORTAL_ID/NOPASS_AUTH_TOKEN or the stored registration)`,
    });
  }

  const parsed = parseJson(text);
  if (!parsed.ok) throw unavailable(op, `HTTP ${status}, ${parsed.why}`);
  return checkEnvelope(op, status, parsed.value);
}

function checkEnvelope(op: string, status: number, json: unknown): Envelope {
  let members: unknown;
  try {
    members = canonicalKeys(json, ENVELOPE_NAMES);
  } catch {
    throw unavailable(op, `HTTP ${status}, not the NoPass envelope (ambiguous or too deep)`);
  }
  const envelope = envelopeSchema.safeParse(members);
  const shaped =
    envelope.success &&
    (Object.hasOwn(envelope.data, 'errors') || Object.hasOwn(envelope.data, 'result'));
  if (!envelope.success || !shaped) {
    const why = envelope.success ? 'no errors or result member' : describeIssues(envelope.error);
    throw unavailable(op, `HTTP ${status}, not the NoPass envelope (${why})`);
  }

  const [first] = envelope.data.errors ?? [];
  if (first !== undefined || (status >= 400 && status < 500)) {
    const code = first?.code?.slice(0, 64);
    throw new NoPassRefused(status, first?.code, first?.message, {
      detail: `${op}: HTTP ${status}, refused${code ? ` with code ${code}` : ''}`,
    });
  }
  if (status !== 200) throw unavailable(op, `unexpected HTTP ${status}`);

  return { result: envelope.data.result, members: envelope.data };
}

/** Builds the sender every operation goes through. */
export function createSender(options: EnvelopeOptions): SendCall {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const maxReplyBytes = options.maxReplyBytes ?? MAX_REPLY_BYTES;

  return async function send(call: NoPassCall): Promise<Envelope> {
    const aborter = new AbortController();
    let oversize = false;
    const request = got.post(`${baseUrl}${call.path}`, {
      body: JSON.stringify(call.body),
      headers: {
        'content-type': 'application/json-patch+json',
        accept: 'application/json, text/plain',
        authorization: `Bearer ${call.authToken}`,
        'user-agent': 'nopass-oidc-bridge',
      },
      responseType: 'text',
      throwHttpErrors: false,
      followRedirect: false,
      // Compressed answers are refused rather than inflated: a tiny body must not grow past the
      // size cap in memory.
      decompress: false,
      timeout: { request: options.timeoutMs },
      retry: call.idempotent
        ? { limit: 1, methods: ['POST'], backoffLimit: 1000, maxRetryAfter: 1000 }
        : { limit: 0 },
      signal: aborter.signal,
    });
    // `on` returns the request itself, which is awaited below.
    void request.on('downloadProgress', (progress) => {
      if (progress.transferred > maxReplyBytes || (progress.total ?? 0) > maxReplyBytes) {
        oversize = true;
        aborter.abort();
      }
    });

    let response: Response<string>;
    try {
      response = await request;
    } catch (error) {
      if (oversize) throw unavailable(call.op, `answer over ${maxReplyBytes} bytes`);
      if (error instanceof RequestError) {
        throw unavailable(call.op, describeRequestError(error, options.timeoutMs), error);
      }
      throw unavailable(call.op, 'request failed', error);
    }
    if (oversize || response.rawBody.length > maxReplyBytes) {
      throw unavailable(call.op, `answer over ${maxReplyBytes} bytes`);
    }
    if (
      response.headers['content-encoding'] &&
      response.headers['content-encoding'] !== 'identity'
    ) {
      throw unavailable(call.op, `HTTP ${response.statusCode}, compressed answer`);
    }
    return readEnvelope(call.op, response.statusCode, response.body);
  };
}
