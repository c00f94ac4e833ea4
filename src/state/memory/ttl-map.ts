/**
 * A Map whose entries vanish after their time to live. Expired entries are dropped when read
 * and by a sweep that runs at most every `sweepMs`, so memory stays bounded without a timer per
 * entry.
 */
export class TtlMap<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #now: () => number;
  readonly #sweepMs: number;
  #lastSweep = 0;

  constructor(now: () => number = Date.now, sweepMs = 10_000) {
    this.#now = now;
    this.#sweepMs = sweepMs;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Stores `value`; `ttlMs` of Infinity keeps it for the life of the process. */
  set(key: string, value: V, ttlMs: number): void {
    this.#sweep();
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs });
  }

  /** Replaces the value and keeps the entry's expiry. Returns false when there is none. */
  replace(key: string, value: V): boolean {
    const entry = this.#entries.get(key);
    if (!entry || entry.expiresAt <= this.#now()) return false;
    entry.value = value;
    return true;
  }

  /** Milliseconds until the entry expires (Infinity for a kept one), or 0 when there is none. */
  remainingMs(key: string): number {
    const entry = this.#entries.get(key);
    if (!entry) return 0;
    return Math.max(0, entry.expiresAt - this.#now());
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  #sweep(): void {
    const now = this.#now();
    if (now - this.#lastSweep < this.#sweepMs) return;
    this.#lastSweep = now;
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(key);
    }
  }
}
