/**
 * What the operator commands (`nopass-bridge users …`, `nopass-bridge portal …`) share: the
 * bridge's own settings, read from the same environment, and a connection to the store the
 * running bridge uses. That store must be Redis: without a Redis setting the bridge keeps its
 * users in its own process memory, which no other process can reach, so the commands say so
 * and stop rather than work on an empty store of their own.
 *
 * Results go to stdout, problems to stderr, and log lines (warnings only) to stderr too, so
 * `users show` prints JSON that can be piped. The exit code is 0 on success, 1 when the command
 * could not do its work, 2 when it was called wrongly.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { createLogger, type Logger } from '../log.ts';
import { readSettings, SettingsError, type Settings } from '../settings/index.ts';
import { openRedisState } from '../state/redis/index.ts';
import type { Store } from '../state/types.ts';

/** Where a command writes; a parameter so tests and other callers can capture it. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** A command line that does not say what to do. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What a command works with once connected. */
export interface OperatorContext {
  settings: Settings;
  store: Store;
  log: Logger;
  output: Output;
  now: () => number;
}

/** Why the commands need Redis, said once for all of them. */
export const NEEDS_REDIS =
  'The users and portal commands work on the store of the running bridge, so they need the ' +
  'same REDIS_URL (or REDIS_SENTINELS / REDIS_CLUSTER_NODES) as the bridge. Without it the ' +
  'bridge keeps users in its own process memory, which no other process can reach.';

/**
 * Reads the settings, connects to the shared store, runs `work` and closes the connection.
 * Returns the exit code.
 */
export async function withStore(
  env: Record<string, string | undefined>,
  output: Output,
  work: (context: OperatorContext) => Promise<number>,
): Promise<number> {
  let settings: Settings;
  try {
    // Nothing the commands do depends on the generated quickstart values.
    settings = readSettings(env, (bytes) => randomBytes(bytes).toString('hex'));
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    output.err(`Configuration error: ${error.message}`);
    return 1;
  }
  if (!settings.redis) {
    output.err(NEEDS_REDIS);
    return 1;
  }

  const log = createLogger(
    ['error', 'fatal', 'silent'].includes(settings.logLevel) ? settings.logLevel : 'warn',
    pino.destination(2),
  );
  let state;
  try {
    state = await openRedisState(settings.redis, log, 5000);
  } catch (error) {
    output.err(`Cannot reach the store: ${(error as Error).message}`);
    return 1;
  }
  try {
    return await work({ settings, store: state.store, log, output, now: Date.now });
  } finally {
    await state.bus.close();
    await state.store.close();
  }
}

/** An epoch-ms time as operators read it, or '-' when there is none. */
export function when(at: number | undefined): string {
  return at === undefined ? '-' : new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
