/**
 * The logger: pino, JSON lines. Secrets are removed here, centrally, by path, so no call site
 * has to remember: tokens, codes, the S-code, the authToken, one-time passwords, cookies,
 * pictures and e-mail addresses never reach a log line.
 */
import { createHash } from 'node:crypto';
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'authToken',
  'sCode',
  's_code',
  'otp',
  'image',
  'email',
  'cookie',
  'code',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  '*.authToken',
  '*.sCode',
  '*.otp',
  '*.image',
  '*.email',
  '*.token',
  '*.client_secret',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/**
 * A short, stable reference to an authId for logs: enough to follow one sign-in, useless to
 * anyone who would replay it against the callbacks.
 */
export function authRef(authId: string): string {
  return createHash('sha256').update(authId).digest('base64url').slice(0, 12);
}
