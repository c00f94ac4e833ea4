/**
 * `npm run simulator`: runs the NoPass simulator on its own, for docker compose and for anyone
 * pointing a portal at it by hand. Settings come from the environment:
 *
 * - `SIMULATOR_PORT` (default 3001) and `SIMULATOR_HOST` (default 127.0.0.1),
 * - `SIMULATOR_PUBLIC_URL`, the base URL its pages link to when it sits behind a proxy,
 * - `SIMULATOR_USERS`, comma-separated user ids every portal knows besides 'demo',
 * - `LOG_LEVEL` (default info).
 */
import { createLogger } from '../log.ts';
import { createSimulator } from './index.ts';

/** Starts the simulator and resolves once it listens; it runs until the process is stopped. */
export async function runSimulator(env: Record<string, string | undefined>): Promise<void> {
  const port = portFrom(env.SIMULATOR_PORT);
  const host = env.SIMULATOR_HOST || '127.0.0.1';
  const log = createLogger(env.LOG_LEVEL || 'info').child({ component: 'simulator' });
  const users = (env.SIMULATOR_USERS ?? '')
    .split(',')
    .map((user) => user.trim())
    .filter((user) => user !== '');
  const simulator = createSimulator({
    log,
    users,
    ...(env.SIMULATOR_PUBLIC_URL ? { publicUrl: env.SIMULATOR_PUBLIC_URL } : {}),
  });
  const { url } = await simulator.listen(port, host);
  log.warn(
    { url, phone_url: `${env.SIMULATOR_PUBLIC_URL || url}/phone` },
    'NoPass simulator listening: for development only, never for real sign-ins',
  );

  const stop = (): void => {
    void simulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function portFrom(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 3001;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`SIMULATOR_PORT: expected a whole number from 0 to 65535, got "${raw}"`);
  }
  return port;
}
