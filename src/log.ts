/**
 * The logger: pino, JSON lines (or pino-pretty's readable lines for a person at a terminal).
 *
 * Secrets are removed here, centrally, so no call site has to remember: tokens, codes, the
 * S-code, the authToken, one-time passwords, cookies, pictures and e-mail addresses never reach
 * a log line. Removal is by field name, in any letter case and at any depth up to MAX_DEPTH, in
 * a line's fields, in a child logger's bindings and in serialized errors (whose causes can
 * carry request options). It is one walk over each line's own fields, copying only what it
 * changes: pino's path-based `redact` would need a wildcard path per name and level, and those
 * cost tens of microseconds on every line.
 */
import { createHash } from 'node:crypto';
import { pino, stdSerializers, type Logger } from 'pino';

export type { Logger };

/** `json`: one JSON object per line, for machines. `pretty`: coloured lines for a person. */
export type LogFormat = 'json' | 'pretty';

export const CENSOR = '[redacted]';

/** Field names (compared in lower case) whose values never reach a log line. */
const SECRET_FIELDS = new Set(
  [
    'authToken',
    'auth_token',
    'sCode',
    's_code',
    'otp',
    'image',
    'picture',
    'email',
    'cookie',
    'cookies',
    'set-cookie',
    'authorization',
    'password',
    'code',
    'code_verifier',
    'token',
    'access_token',
    'refresh_token',
    'id_token',
    'id_token_hint',
    'logout_token',
    'client_secret',
    // A form's anti-forgery token (http/csrf.ts); its cookie is covered by the cookie names.
    '_csrf',
  ].map((name) => name.toLowerCase()),
);

/** How deep a secret is looked for: `err.cause.options.headers.authorization` is five down. */
const MAX_DEPTH = 6;

function isWalkable(value: object): boolean {
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** `value` with every secret field's value replaced; the input is never changed. */
export function redact<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (!isWalkable(value)) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, index) => {
      const next = redact(item, depth + 1);
      if (next === item) return;
      copy ??= [...(value as unknown[])];
      copy[index] = next;
    });
    return (copy ?? value) as T;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    const item = record[key];
    const next = SECRET_FIELDS.has(key.toLowerCase())
      ? item === undefined
        ? item
        : CENSOR
      : redact(item, depth + 1);
    if (next === item) continue;
    copy ??= { ...record };
    copy[key] = next;
  }
  return (copy ?? value) as T;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const logger = pino(
    {
      level,
      base: undefined,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => redact(fields),
      },
      serializers: { err: (error: Error) => redact(stdSerializers.err(error)) },
    },
    destination,
  );
  // pino applies no formatter to a child's bindings; every child inherits this `child` (pino
  // makes children with Object.create), so bindings are redacted at every generation.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with each child's own `this`
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redact(bindings), options);
  } as Logger['child'];
  return logger;
}

/**
 * Which format to write: the one `LOG_FORMAT` names; otherwise readable lines only for the
 * quickstart at a terminal, and JSON everywhere else (a file, a pipe, a container's log).
 */
export function chooseLogFormat(
  configured: LogFormat | undefined,
  quickstart: boolean,
  terminal: boolean,
): LogFormat {
  return configured ?? (quickstart && terminal ? 'pretty' : 'json');
}

/**
 * Where lines go for a format. JSON goes to standard output without waiting for each write:
 * lines written while one write is in flight go out together in the next, so a busy instance
 * makes one system call per batch instead of one per line (a measurable share of a sign-in's
 * CPU time otherwise), and whatever is still buffered is flushed when the process exits.
 * Readable lines go through pino-pretty, loaded only then. Redaction happens before either sees
 * a line.
 */
export async function logDestination(
  format: LogFormat,
  output: NodeJS.WritableStream = process.stdout,
  colorize = (output as { isTTY?: boolean }).isTTY === true,
): Promise<pino.DestinationStream> {
  if (format === 'json') return pino.destination({ dest: 1, sync: false });
  const { PinoPretty } = await import('pino-pretty');
  return PinoPretty({
    destination: output,
    colorize,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
}

/**
 * A short, stable reference to an authId for logs: enough to follow one sign-in, useless to
 * anyone who would replay it against the callbacks.
 */
export function authRef(authId: string): string {
  return createHash('sha256').update(authId).digest('base64url').slice(0, 12);
}
