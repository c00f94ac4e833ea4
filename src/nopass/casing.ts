/**
 * Property names on the NoPass wire, in any casing. The vendor's server and sample portal are
 * ASP.NET, which binds JSON property names without regard to case, so `authId`, `AuthId` and
 * `AUTHID` name the same field. Both directions go through here: the envelope of outbound
 * replies and the bodies of inbound callbacks are rewritten to the camelCase names the schemas
 * use, and only then validated.
 */
import { z } from 'zod';
import { BadRequest } from '../http/errors.ts';

/** Lower-cased property name → the camelCase name a schema uses. */
export type Vocabulary = ReadonlyMap<string, string>;

/** Deeper than any NoPass body; a bound keeps a hostile body from exhausting the stack. */
const MAX_DEPTH = 16;

/**
 * Every property name that appears anywhere in `schemas` (nested objects too), keyed by its
 * lower-cased form. Built from the schemas so a field added to a schema is recognised in any
 * casing without a second list to keep in step.
 */
export function vocabularyOf(...schemas: z.ZodType[]): Vocabulary {
  const names = new Map<string, string>();
  const visit = (schema: z.ZodType): void => {
    if (schema instanceof z.ZodObject) {
      const fields = Object.entries(schema.shape) as [string, z.ZodType][];
      for (const [name, inner] of fields) {
        names.set(name.toLowerCase(), name);
        visit(inner);
      }
    } else if (
      schema instanceof z.ZodOptional ||
      schema instanceof z.ZodNullable ||
      schema instanceof z.ZodDefault
    ) {
      visit(schema.unwrap() as z.ZodType);
    } else if (schema instanceof z.ZodPipe) {
      visit(schema.in as z.ZodType);
      visit(schema.out as z.ZodType);
    } else if (schema instanceof z.ZodArray) {
      visit(schema.element as z.ZodType);
    } else if (schema instanceof z.ZodUnion) {
      for (const option of schema.options as z.ZodType[]) visit(option);
    }
  };
  for (const schema of schemas) visit(schema);
  return names;
}

/**
 * A copy of a parsed JSON value whose property names are rewritten, at every depth, to the
 * vocabulary's spelling; names the vocabulary does not know are kept as they are (the schemas
 * ignore them). Objects come out without a prototype, so a `__proto__` property is plain data.
 *
 * Throws `BadRequest` when one known name appears twice in one object in different casings (the
 * body would be read ambiguously) or when the value nests deeper than any NoPass body does.
 */
export function canonicalKeys(value: unknown, vocabulary: Vocabulary, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) throw new BadRequest('The body is nested too deeply.');

  if (Array.isArray(value)) {
    return value.map((item: unknown) => canonicalKeys(item, vocabulary, depth + 1));
  }

  const result = Object.create(null) as Record<string, unknown>;
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const known = vocabulary.get(key.toLowerCase());
    // An unknown name is kept as sent, so only a known one can collide.
    if (known !== undefined && Object.hasOwn(result, known)) {
      throw new BadRequest(`The body names "${known}" more than once, in different casings.`);
    }
    result[known ?? key] = canonicalKeys(inner, vocabulary, depth + 1);
  }
  return result;
}

/** Where a schema rejected a value: field paths and zod's wording, never the values themselves. */
export function describeIssues(error: z.ZodError, limit = 5): string {
  return error.issues
    .slice(0, limit)
    .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
}
