/**
 * The Redis bus: a callback applied on instance B reaches the picture page held open by
 * instance A. Every instance subscribes once, at start, to one channel (`<prefix>events`) on a
 * connection of its own; an event is `{ authId, kind, requestId }` as JSON, and each instance
 * hands it to whichever of its streams follows that authId. One channel subscribed from the start means a
 * stream never waits for a SUBSCRIBE to take effect before it can hear anything.
 *
 * Pub/sub keeps nothing for a listener that is away. When the subscriber connection comes back
 * (ioredis subscribes again by itself), every local listener gets a `resync` event and reads the
 * current state from the store, which is where the truth is anyway.
 */
import type { Logger } from '../../log.ts';
import type { Bus, LoginEvent, Unsubscribe } from '../types.ts';
import { disconnect, guarded, type RedisClient } from './connection.ts';

type Handler = (event: LoginEvent) => void;

/** What a Redis bus works with. */
export interface RedisBusOptions {
  /** The store's command connection, used to publish; not closed by the bus. */
  publisher: RedisClient;
  /** A connection for this bus alone (subscribed connections can do nothing else). */
  subscriber: RedisClient;
  channel: string;
  log: Logger;
}

function parse(text: string): LoginEvent | undefined {
  try {
    const event = JSON.parse(text) as Partial<LoginEvent> | null;
    if (typeof event?.authId !== 'string') return undefined;
    if (event.kind !== 'picture' && event.kind !== 'verdict') return undefined;
    // Another instance's request id: used in log lines, so only a safe one is kept.
    const requestId =
      typeof event.requestId === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(event.requestId)
        ? event.requestId
        : undefined;
    return requestId === undefined
      ? { authId: event.authId, kind: event.kind }
      : { authId: event.authId, kind: event.kind, requestId };
  } catch {
    return undefined;
  }
}

/** The bus on Redis pub/sub; `start()` must have resolved before events are heard. */
export class RedisBus implements Bus {
  readonly #publisher: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #channel: string;
  readonly #log: Logger;
  readonly #handlers = new Map<string, Set<Handler>>();
  /** Set when the subscriber lost its connection after having been subscribed. */
  #interrupted = false;
  #closed = false;

  constructor(options: RedisBusOptions) {
    this.#publisher = options.publisher;
    this.#subscriber = options.subscriber;
    this.#channel = options.channel;
    this.#log = options.log;

    this.#subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.#channel) return;
      const event = parse(text);
      if (event) this.#deliver(event.authId, event);
    });
    this.#subscriber.on('close', () => {
      this.#interrupted = true;
    });
    this.#subscriber.on('ready', () => void this.#resyncAfterInterruption());
  }

  /** Subscribes to the channel; resolves once Redis has confirmed it. */
  async start(): Promise<void> {
    await this.#subscriber.subscribe(this.#channel);
    this.#interrupted = false;
  }

  publish(event: LoginEvent): Promise<void> {
    return guarded('publish', async () => {
      await this.#publisher.publish(this.#channel, JSON.stringify(event));
    });
  }

  /** Connected and subscribed: a subscriber connection that is down hears nothing. */
  ping(): Promise<boolean> {
    return Promise.resolve(
      !this.#closed && !this.#interrupted && this.#subscriber.status === 'ready',
    );
  }

  subscribe(authId: string, handler: Handler): Unsubscribe {
    let handlers = this.#handlers.get(authId);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(authId, handlers);
    }
    handlers.add(handler);
    return () => {
      const current = this.#handlers.get(authId);
      current?.delete(handler);
      if (current?.size === 0) this.#handlers.delete(authId);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#handlers.clear();
    await disconnect(this.#subscriber);
  }

  #deliver(authId: string, event: LoginEvent): void {
    for (const handler of [...(this.#handlers.get(authId) ?? [])]) {
      try {
        handler(event);
      } catch (error) {
        this.#log.error({ err: error }, 'login event listener failed');
      }
    }
  }

  /**
   * After a reconnection: make sure the channel is subscribed (ioredis has already sent the
   * SUBSCRIBE again; waiting for a confirmed one closes the gap in which an event could still
   * be missed), wait until the store answers too, then tell every listener to read again.
   */
  async #resyncAfterInterruption(): Promise<void> {
    if (!this.#interrupted || this.#closed) return;
    this.#interrupted = false;
    try {
      await this.#subscriber.subscribe(this.#channel);
      if (this.#publisher.status !== 'ready') {
        await new Promise<void>((resolve) => this.#publisher.once('ready', () => resolve()));
      }
    } catch (error) {
      // The connection dropped again; its next 'ready' starts over.
      this.#interrupted = true;
      this.#log.warn({ err_message: (error as Error).message }, 'redis resubscription failed');
      return;
    }
    if (this.#closed) return;
    this.#log.info({ listeners: this.#handlers.size }, 'event bus resubscribed');
    for (const authId of [...this.#handlers.keys()]) {
      this.#deliver(authId, { authId, kind: 'resync' });
    }
  }
}
