/**
 * Command line: `start` (the default) runs the bridge; `simulator` runs the NoPass simulator
 * alone. With no NoPass server configured, `start` is the quickstart: it embeds the simulator,
 * registers the portal with it and adds a demo relying party, and says loudly that this is not
 * for production.
 */
import { randomBytes } from 'node:crypto';
import { createBridge } from './app.ts';
import { demoClient } from './demo/router.ts';
import { createLogger, type Logger } from './log.ts';
import { readSettings, SettingsError, type Settings } from './settings/index.ts';
import { runClientsCommand } from './cli/clients.ts';
import { runSimulator } from './simulator/cli.ts';
import { createSimulator, type Simulator } from './simulator/index.ts';

const generate = (bytes: number): string => randomBytes(bytes).toString('hex');

/** The most a shutdown may take before the process exits regardless. */
const SHUTDOWN_MS = 10_000;

interface EmbeddedSimulator {
  simulator: Simulator;
  url: string;
  phoneUrl: (userId: string) => string;
}

/** The quickstart's NoPass server: the simulator, on its own port of this machine. */
async function embedSimulator(settings: Settings, log: Logger): Promise<EmbeddedSimulator> {
  const simulator = createSimulator({ log: log.child({ component: 'simulator' }) });
  const listening = await simulator.listen(settings.simulatorPort, '127.0.0.1');
  const url = listening.url.replace('127.0.0.1', 'localhost');
  log.warn(
    { simulator_url: url },
    'QUICKSTART MODE: NoPass simulator embedded, keys and secrets generated. Not for production.',
  );
  return {
    simulator,
    url,
    phoneUrl: (userId) => `${url}/phone?userId=${encodeURIComponent(userId)}`,
  };
}

async function start(settings: Settings, log: Logger): Promise<() => Promise<void>> {
  const embedded = settings.nopassServerUrl ? undefined : await embedSimulator(settings, log);
  const simulator = embedded?.simulator;
  const bridge = await createBridge({
    settings,
    log,
    nopassServerUrl: settings.nopassServerUrl ?? embedded?.url ?? '',
    demo: simulator ? demoClient(settings.issuer) : undefined,
    phoneUrl: embedded?.phoneUrl,
  });
  if (bridge.generatedKeys) {
    log.warn('signing keys were generated and are kept only in this process; set JWKS_FILE');
  }
  await bridge.listen(settings.port);
  log.info({ issuer: settings.issuer, port: settings.port }, 'bridge listening');

  if (simulator && !settings.configuredPortal && !(await bridge.store.getPortal())) {
    // The simulator calls back on this machine, whatever public URL the issuer has.
    const portal = await simulator.registerPortal({
      webUrl: `http://127.0.0.1:${settings.port}${settings.callbackPrefix}`,
      adminId: settings.adminId,
      sCode: settings.sCode,
      name: 'Quickstart bridge',
    });
    log.info({ portal_id: portal.portalId }, 'portal registered with the embedded simulator');
  }
  if (simulator) {
    log.info(`open ${settings.issuer}/ and click "Try it"; sign in as user id "demo"`);
  }

  return async () => {
    await bridge.close();
    await simulator?.close();
  };
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? 'start';
  if (command === 'simulator') {
    await runSimulator(process.env);
    return;
  }
  if (command === 'clients') {
    process.exitCode = await runClientsCommand(argv.slice(1));
    return;
  }
  if (command !== 'start') {
    process.stderr.write(`unknown command "${command}". Commands: start, simulator, clients\n`);
    process.exitCode = 2;
    return;
  }

  let settings: Settings;
  try {
    settings = readSettings(process.env, generate);
  } catch (error) {
    if (error instanceof SettingsError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
  const log = createLogger(settings.logLevel);
  let stop: () => Promise<void>;
  try {
    stop = await start(settings, log);
  } catch (error) {
    // Whatever was already listening (the embedded simulator) must not keep the process up.
    if (error instanceof SettingsError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
    } else {
      log.fatal({ err: error }, 'the bridge could not start');
    }
    process.exit(1);
  }

  // Graceful, and bounded: open event streams are sent elsewhere, requests in flight finish,
  // Redis is closed; whatever still hangs after SHUTDOWN_MS is abandoned.
  const shutdown = (signal: string): void => {
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ timeout_ms: SHUTDOWN_MS }, 'shutdown took too long; exiting anyway');
      process.exit(1);
    }, SHUTDOWN_MS);
    timer.unref();
    stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

await main(process.argv.slice(2));
