/**
 * The processes a benchmark measures: bridge instances, the NoPass simulator and the bare
 * oidc-provider, each a real Node process on loopback, its output in a file of the run's own
 * directory. Every process started here is stopped by `stopAll()`, and killed if the benchmark
 * itself exits first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface Proc {
  name: string;
  pid: number;
  url: string;
  port: number;
  /** Milliseconds from spawn until `ready` first answered true. */
  startMs: number;
  /** Resident memory in bytes, from /proc. */
  rss(): number;
  /** The process's output so far (its log file). */
  output(): string;
  stop(): Promise<void>;
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

export interface SpawnOptions {
  name: string;
  /** Script and arguments, relative to the repository. */
  args: string[];
  env: Record<string, string>;
  port: number;
  /** Directory for the log file. */
  dir: string;
  /** Path polled until it answers 200 (default /healthz). */
  readyPath?: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  timeoutMs?: number;
}

/** Starts a Node process and resolves once `readyPath` answers 200. */
export async function spawnNode(options: SpawnOptions): Promise<Proc> {
  const logFile = join(options.dir, `${options.name}.log`);
  const fd = openSync(logFile, 'a');
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...options.args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  live.add(child);
  child.once('exit', () => live.delete(child));
  const url = `http://127.0.0.1:${options.port}`;
  const output = (): string => readFileSync(logFile, 'utf8');

  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let ready = false;
  while (!ready && Date.now() < deadline && child.exitCode === null) {
    ready = await fetch(`${url}${options.readyPath ?? '/healthz'}`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (!ready) await sleep(5);
  }
  const startMs = performance.now() - started;
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`${options.name} did not become ready:\n${output().slice(-3000)}`);
  }

  return {
    name: options.name,
    pid: child.pid!,
    url,
    port: options.port,
    startMs,
    rss: () => rssOf(child.pid!),
    output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Stops every process still running, in parallel. */
export async function stopAll(procs: Iterable<Proc>): Promise<void> {
  await Promise.all([...procs].map((proc) => proc.stop()));
}

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const CLOCK_TICKS = 100;
