/**
 * The in-process bus: callback handlers and event streams of the same process meet here.
 */
import { EventEmitter } from 'node:events';
import type { Bus, LoginEvent, Unsubscribe } from '../types.ts';

export class MemoryBus implements Bus {
  readonly #emitter = new EventEmitter();
  #closed = false;

  constructor() {
    // Every waiting picture page holds one listener; there is no meaningful cap.
    this.#emitter.setMaxListeners(0);
  }

  publish(event: LoginEvent): Promise<void> {
    // Delivered on the next tick so a publisher never runs subscriber code inline.
    queueMicrotask(() => this.#emitter.emit(event.authId, event));
    return Promise.resolve();
  }

  subscribe(authId: string, handler: (event: LoginEvent) => void): Unsubscribe {
    this.#emitter.on(authId, handler);
    return () => this.#emitter.off(authId, handler);
  }

  ping(): Promise<boolean> {
    return Promise.resolve(!this.#closed);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#emitter.removeAllListeners();
    return Promise.resolve();
  }
}
