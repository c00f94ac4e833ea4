/**
 * A stand-in NoPass server for the client tests: a node:http server on 127.0.0.1 that records
 * every request it receives and answers with whatever the test sets as its `reply`.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.ts';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Reply = (response: ServerResponse, request: ReceivedRequest) => void;

export interface CannedServer {
  url: string;
  received: ReceivedRequest[];
  reply: Reply;
  close(): Promise<void>;
}

/** A reply with status and body; `text/plain` like the vendor's server unless told otherwise. */
export function answer(status: number, body: unknown, type = 'text/plain; charset=utf-8'): Reply {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return (response) => {
    response.writeHead(status, { 'content-type': type });
    response.end(text);
  };
}

export async function startCannedServer(): Promise<CannedServer> {
  const received: ReceivedRequest[] = [];
  const state: CannedServer = {
    url: '',
    received,
    reply: answer(200, { errors: [], result: null }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const seen: ReceivedRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(seen);
      state.reply(response, seen);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** A logger whose JSON lines land in `lines`, at debug level so every call is seen. */
export function captureLog(): {
  log: Logger;
  lines: () => Record<string, unknown>[];
  text: () => string;
} {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  const log = createLogger('debug', sink);
  return {
    log,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
