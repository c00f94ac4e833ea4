/**
 * Picture pages' event streams, measured: how fast an AuthorizedUser callback reaches a page
 * (on the instance that took the callback, or on another through Redis), and how many open
 * streams one instance holds and at what memory cost. Streams are plain sockets speaking
 * HTTP/1.1, the lightest client there is, so ten thousand fit in the driver process.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { bridgePicture, drain, Driver, type Jar } from './client.ts';
import { rssOf, type Proc } from './processes.ts';
import { control } from './setup.ts';

/** An open event stream; `until` resolves when the text has arrived (bounded). */
export interface OpenStream {
  socket: Socket;
  until(text: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Opens `path`'s event stream on `origin` with the jar's cookies; resolves at the first event. */
export function openStream(origin: string, path: string, jar: Jar): Promise<OpenStream> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    let seen = '';
    let waiter: { text: string; done: () => void } | undefined;
    const check = (): void => {
      if (waiter && seen.includes(waiter.text)) {
        const { done } = waiter;
        waiter = undefined;
        done();
      }
    };
    const stream: OpenStream = {
      socket,
      until(text, timeoutMs = 10_000) {
        return new Promise<void>((done, fail) => {
          const timer = setTimeout(() => fail(new Error(`no "${text}" in time`)), timeoutMs);
          waiter = {
            text,
            done: () => {
              clearTimeout(timer);
              done();
            },
          };
          check();
        });
      },
      close: () => socket.destroy(),
    };
    socket.on('data', (chunk: string) => {
      seen += chunk;
      // Only what comes after the last full message matters for the next wait.
      if (seen.length > 65_536) seen = seen.slice(-8192);
      check();
    });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(
        `GET ${path}/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
          `Accept: text/event-stream\r\nCookie: ${jar.header()}\r\n\r\n`,
      );
      stream.until('event: state').then(() => resolve(stream), reject);
    });
  });
}

export interface PushSample {
  ms: number;
}

/**
 * Push latency: a sign-in waits on the picture page of `pageInstance`; the driver, playing
 * NoPass, sends AuthorizedUser to `callbackInstance` and times until the page's stream says
 * "approved". One sign-in at a time, `samples` times, each with a user of its own.
 */
export async function pushLatency(
  simulator: Proc,
  pageInstance: Proc,
  callbackInstance: Proc,
  samples: number,
  tag: string,
): Promise<number[]> {
  const driver = new Driver(pageInstance.url, 2);
  const callbacks = new Driver(callbackInstance.url, 1);
  const times: number[] = [];
  try {
    for (let index = 0; index < samples; index += 1) {
      const userId = `push-${tag}-${index}`;
      await control(simulator, '/users', { userId });
      const { jar, interaction } = await bridgePicture(driver, userId);
      const auths = (await (
        await fetch(`${simulator.url}/control/auths?status=waiting&userId=${userId}`)
      ).json()) as { authId: string }[];
      const authId = auths[0]?.authId;
      if (!authId) throw new Error('no authentication at the simulator');
      const stream = await openStream(pageInstance.url, interaction, jar);
      const approved = stream.until('"status":"approved"');
      const started = performance.now();
      const reply = await callbacks.request(
        'POST',
        '/api/PortalCommunication/AuthorizedUser',
        undefined,
        {
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ authId, isAuthorized: true }),
        },
      );
      if (reply.status !== 200) throw new Error(`AuthorizedUser: HTTP ${reply.status}`);
      await approved;
      times.push(performance.now() - started);
      stream.close();
    }
  } finally {
    await driver.close();
    await callbacks.close();
  }
  return times;
}

export interface CapacityResult {
  streams: number;
  signIns: number;
  /** Bridge RSS before any sign-in, after the sign-ins, and with every stream open. */
  rssIdle: number;
  rssSignIns: number;
  rssStreams: number;
  /** What the bridge's gauge said with every stream open. */
  gauge: number;
  /** How long opening every stream took. */
  openSeconds: number;
}

async function gaugeOf(bridge: Proc): Promise<number> {
  const text = await (await fetch(`${bridge.url}/metrics`)).text();
  return Number(/^nopass_bridge_event_streams_open (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
}

/** Waits until the process's RSS stops moving (bounded), then returns it. */
async function settledRss(pid: number): Promise<number> {
  let last = rssOf(pid);
  for (let tries = 0; tries < 10; tries += 1) {
    await sleep(500);
    const now = rssOf(pid);
    if (Math.abs(now - last) < 512 * 1024) return now;
    last = now;
  }
  return last;
}

/**
 * Holds `signIns × perSignIn` streams open on one instance: each sign-in waits on its picture
 * (as a person who has not looked at the phone yet), each stream is one open picture page.
 */
export async function streamCapacity(
  bridge: Proc,
  signIns: number,
  perSignIn: number,
): Promise<CapacityResult> {
  const rssIdle = await settledRss(bridge.pid);
  const driver = new Driver(bridge.url, 16);
  const pages: { jar: Jar; interaction: string }[] = [];
  const started = await drain(
    Array.from({ length: signIns }, (_, index) => index),
    16,
    async () => {
      pages.push(await bridgePicture(driver, 'demo'));
    },
  );
  await driver.close();
  if (started.errors > 0) throw new Error(`sign-ins failed: ${started.firstError}`);
  const rssSignIns = await settledRss(bridge.pid);

  const streams: OpenStream[] = [];
  const targets = pages.flatMap((page) => Array.from({ length: perSignIn }, () => page));
  const opening = performance.now();
  try {
    const opened = await drain(targets, 64, async (page) => {
      streams.push(await openStream(bridge.url, page.interaction, page.jar));
    });
    if (opened.errors > 0) throw new Error(`streams failed: ${opened.firstError}`);
    const openSeconds = (performance.now() - opening) / 1000;
    const rssStreams = await settledRss(bridge.pid);
    const gauge = await gaugeOf(bridge);
    return {
      streams: streams.length,
      signIns,
      rssIdle,
      rssSignIns,
      rssStreams,
      gauge,
      openSeconds,
    };
  } finally {
    for (const stream of streams) stream.close();
  }
}
