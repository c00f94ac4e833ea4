/**
 * Property casing on the wire. The vendor's server is ASP.NET, which binds JSON property names
 * without regard to case, so portals send `portalId`, `PortalId` or `PORTALID` and all of them
 * must work here. In the other direction the simulator can speak camelCase (ASP.NET's default
 * output) or PascalCase (what a server with default-less serializer settings sends), so a portal
 * can be tested against both.
 */

/** The property casing of the calls the simulator makes to portals. */
export type Casing = 'camel' | 'pascal';

/** A JSON object as parsed from a request or reply body. */
export type JsonObject = Record<string, unknown>;

/** Whether `value` is a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads the property `name` of `body` whatever its casing. When several spellings are present
 * the exact one wins, so a body is never read ambiguously in the common case.
 */
export function readField(body: JsonObject, name: string): unknown {
  if (Object.hasOwn(body, name)) return body[name];
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(body)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** A copy of `body` without the property `name`, in any casing. */
export function withoutField(body: JsonObject, name: string): JsonObject {
  const unwanted = name.toLowerCase();
  return Object.fromEntries(Object.entries(body).filter(([key]) => key.toLowerCase() !== unwanted));
}

/** Rewrites the property names of `value`, recursively, into `casing`. */
export function applyCasing(value: unknown, casing: Casing): unknown {
  if (Array.isArray(value)) return value.map((item) => applyCasing(item, casing));
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [recase(key, casing), applyCasing(inner, casing)]),
  );
}

function recase(key: string, casing: Casing): string {
  const first = key.charAt(0);
  return (casing === 'pascal' ? first.toUpperCase() : first.toLowerCase()) + key.slice(1);
}
