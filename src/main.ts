/**
 * Command line: `start` (the default) runs the bridge; `simulator` runs the NoPass simulator
 * alone; `users` and `portal` are the operator's commands on a running deployment's store
 * (cli/). With no NoPass server configured, `start` is the quickstart: it embeds the simulator,
 * registers the portal with it and adds a demo relying party, and says loudly that this is not
 * for production.
 */
import { randomBytes } from 'node:crypto';
import { createBridge } from './app.ts';
import { createSourceCheck } from './callbacks/source.ts';
import { demoClient } from './demo/router.ts';
import { chooseLogFormat, createLogger, logDestination, type Logger } from './log.ts';
import { readSettings, SettingsError, type Settings } from './settings/index.ts';
import type { Simulator } from './simulator/index.ts';

const generate = (bytes: number): string => randomBytes(bytes).toString('hex');

/** The most a shutdown may take before the process exits regardless. */
const SHUTDOWN_MS = 10_000;

interface EmbeddedSimulator {
  simulator: Simulator;
  url: string;
  phoneUrl: (userId: string) => string;
}

/** Runs `listen`, turning a port that cannot be used into a message naming the setting. */
async function listenOn<T>(setting: string, port: number, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new SettingsError(setting, `port ${port} is already in use; choose a free one`);
    }
    if (code === 'EACCES') {
      throw new SettingsError(setting, `port ${port} needs privileges this process lacks`);
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new SettingsError('HOST', 'is not an address of this machine');
    }
    throw error;
  }
}

/** The quickstart's NoPass server: the simulator, on its own port of this machine. */
async function embedSimulator(settings: Settings, log: Logger): Promise<EmbeddedSimulator> {
  // Loaded only here and for the `simulator` command: a production bridge never holds the
  // simulator's code in memory.
  const { createSimulator } = await import('./simulator/index.ts');
  const simulator = createSimulator({ log: log.child({ component: 'simulator' }) });
  const listening = await listenOn('SIMULATOR_PORT', settings.simulatorPort, () =>
    simulator.listen(settings.simulatorPort, '127.0.0.1'),
  ).catch(async (error: unknown) => {
    await simulator.close();
    throw error;
  });
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
  // The embedded simulator may take any free port (0), since its address is read back.
  if (!settings.nopassServerUrl && settings.simulatorPort === settings.port) {
    throw new SettingsError('SIMULATOR_PORT', `must differ from PORT (${settings.port})`);
  }
  let nopassServerUrl = settings.nopassServerUrl;
  let embedded: EmbeddedSimulator | undefined;
  if (nopassServerUrl === undefined) {
    if (!createSourceCheck(settings.callbackAllow)('127.0.0.1')) {
      throw new SettingsError(
        'NOPASS_CALLBACK_ALLOW',
        'the embedded simulator calls back from 127.0.0.1, which this list does not allow; ' +
          'add 127.0.0.1 or leave the setting out in the quickstart',
      );
    }
    embedded = await embedSimulator(settings, log);
    nopassServerUrl = embedded.url;
  }
  const simulator = embedded?.simulator;
  const bridge = await createBridge({
    settings,
    log,
    nopassServerUrl,
    demo: simulator ? demoClient(settings.issuer) : undefined,
    phoneUrl: embedded?.phoneUrl,
  });
  if (bridge.generatedKeys) {
    log.warn(
      settings.redis
        ? 'signing keys were generated and are kept in Redis, shared by every instance; set ' +
            'JWKS_FILE to keep them out of Redis'
        : 'signing keys were generated and are kept only in this process; set JWKS_FILE',
    );
  }
  await listenOn('PORT', settings.port, () => bridge.listen(settings.port, settings.host));
  log.info(
    { issuer: settings.issuer, port: settings.port, host: settings.host ?? 'every interface' },
    'bridge listening',
  );
  if (!simulator && !settings.configuredPortal && !(await bridge.store.getPortal())) {
    log.warn(
      { web_url: `${settings.issuer}${settings.callbackPrefix}` },
      'waiting for the portal registration: register this web URL on the NoPass portal ' +
        'registration page with NOPASS_ADMIN_ID and NOPASS_S_CODE; /readyz says ready once done',
    );
  }

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

const USAGE = `usage: nopass-bridge <command>

  start                         run the bridge (the default; with no NOPASS_SERVER_URL, the quickstart)
  simulator                     run the NoPass simulator alone
  clients check <file>          validate a clients file before deploying it
  keys generate                 print a new signing key set for JWKS_FILE
  users list|show|import|delete manage users (needs REDIS_URL)
  portal show|open-window       the portal registration (needs REDIS_URL)

Settings are environment variables; see the README's configuration table.
`;

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? 'start';
  if (command === 'simulator') {
    const { runSimulator } = await import('./simulator/cli.ts');
    await runSimulator(process.env);
    return;
  }
  if (command === '--help' || command === 'help' || command === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  // Each command loads its modules when it runs, so `start` neither waits for nor holds the
  // operator commands' code (nor Redis's client when it runs in memory).
  if (command === 'keys') {
    const { runKeysCommand } = await import('./cli/keys.ts');
    process.exitCode = await runKeysCommand(argv.slice(1));
    return;
  }
  if (command === 'clients') {
    const { runClientsCommand } = await import('./cli/clients.ts');
    process.exitCode = await runClientsCommand(argv.slice(1));
    return;
  }
  if (command === 'users') {
    const [{ runUsersCommand }, { processOutput }] = await Promise.all([
      import('./cli/users.ts'),
      import('./cli/operator.ts'),
    ]);
    process.exitCode = await runUsersCommand(argv.slice(1), process.env, processOutput);
    return;
  }
  if (command === 'portal') {
    const [{ runPortalCommand }, { processOutput }] = await Promise.all([
      import('./cli/portal.ts'),
      import('./cli/operator.ts'),
    ]);
    process.exitCode = await runPortalCommand(argv.slice(1), process.env, processOutput);
    return;
  }
  if (command !== 'start') {
    process.stderr.write(`unknown command "${command}".\n\n${USAGE}`);
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
  const format = chooseLogFormat(settings.logFormat, settings.quickstart, process.stdout.isTTY);
  const log = createLogger(settings.logLevel, await logDestination(format));
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
