/**
 * Checks shared by the operations' result schemas. What NoPass answers ends up in the bridge's
 * store and in browsers (a picture, a link to follow), so every result is validated before use.
 */
import { z } from 'zod';
import { NoPassUnavailable } from '../http/errors.ts';
import { canonicalKeys, describeIssues, vocabularyOf } from './casing.ts';

/** Longest string the vendor's guide allows in a reply field (messages, links). */
export const MAX_TEXT = 2084;

function isHttpUrl(value: string): boolean {
  // A link the browser is sent to: anything but http(s) (javascript:, data:) is refused.
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'https:' || protocol === 'http:';
}

/** An absolute http or https URL. */
export const httpUrl = z.string().max(MAX_TEXT).refine(isHttpUrl, 'expected an http(s) URL');

/** An optional link: absent, null and '' all mean "none". */
export const optionalHttpUrl = z
  .union([z.literal(''), httpUrl])
  .nullish()
  .transform((value) => value || undefined);

/**
 * `value` checked against `schema`, its property names read in any casing. An answer that does
 * not fit means the server is not one the bridge can work with, so it fails as
 * `NoPassUnavailable` with the offending fields named.
 */
export function readResult<T>(op: string, schema: z.ZodType<T>, value: unknown): T {
  let checked: z.ZodSafeParseResult<T>;
  try {
    checked = schema.safeParse(canonicalKeys(value, vocabularyOf(schema)));
  } catch {
    throw new NoPassUnavailable({ detail: `${op}: invalid result (ambiguous or too deep)` });
  }
  if (checked.success) return checked.data;
  throw new NoPassUnavailable({
    detail: `${op}: invalid result (${describeIssues(checked.error)})`,
  });
}
