/**
 * Runs a relying party as its own process on loopback, waits until it answers HTTP, and stops
 * it with everything it started. Each relying party gets its own process group, so an Apache
 * parent with its workers and CGI children goes down with one signal to that group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * Relying parties listen on 127.0.0.2 and the bridge on 127.0.0.1: two hosts, as in a real
 * deployment, so cookies set by one are never sent to the other.
 */
export const RP_HOST = '127.0.0.2';

/** A port that is free on `host` right now. */
export function freePort(host = RP_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RelyingPartyProcess {
  /** Everything the process printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  /** The whole environment of the process: only PATH is added. */
  env: Record<string, string>;
  cwd?: string;
  /** Any HTTP answer from this URL means the relying party is up. */
  readyUrl: string;
  timeoutMs?: number;
}

const OUTPUT_LIMIT = 200_000;

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether `promise` settles within `ms`; the timer never outlives the answer. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startRelyingParty(options: StartOptions): Promise<RelyingPartyProcess> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    if (output.length < OUTPUT_LIMIT) output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  // Should the test process die first, its relying party must not outlive it.
  const killOnExit = (): void => signalGroup(child, 'SIGKILL');
  process.once('exit', killOnExit);

  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    signalGroup(child, 'SIGTERM');
    const stopped = await within(exited, 3000);
    // Whatever is left of the group (Apache workers, a process that ignored SIGTERM) goes now.
    signalGroup(child, 'SIGKILL');
    if (!stopped) await within(exited, 2000);
  };

  const deadline = Date.now() + timeoutMs;
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  for (;;) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(
        `${options.name} did not start (${spawnError?.message ?? `exit ${child.exitCode}`}):\n` +
          output,
      );
    }
    try {
      await fetch(options.readyUrl, { redirect: 'manual', signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${options.name} did not answer within ${timeoutMs} ms:\n${output}`);
    }
    await delay(100);
  }

  return { output: () => output, stop };
}
