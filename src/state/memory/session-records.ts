/**
 * What the memory store keeps beside oidc-provider's own records for signing out and consent:
 * the NoPass authentications behind each OIDC session (closed when the session ends), and the
 * scopes each user allowed each client on the consent page.
 */
import type { ConsentRecord } from '../types.ts';
import { TtlMap } from './ttl-map.ts';

export class MemorySessionRecords {
  readonly #sessionAuths: TtlMap<string[]>;
  /** userId → clientId → scopes. */
  readonly #consents: TtlMap<Map<string, string[]>>;

  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
    this.#sessionAuths = new TtlMap(now);
    this.#consents = new TtlMap(now);
  }

  addSessionAuth(sessionUid: string, authId: string, ttlMs: number): void {
    const known = this.#sessionAuths.get(sessionUid) ?? [];
    const next = known.includes(authId) ? known : [...known, authId];
    this.#sessionAuths.set(sessionUid, next, ttlMs);
  }

  takeSessionAuths(sessionUid: string): string[] {
    const known = this.#sessionAuths.get(sessionUid) ?? [];
    this.#sessionAuths.delete(sessionUid);
    return [...known];
  }

  getConsent(userId: string, clientId: string): string[] {
    return [...(this.#consents.get(userId)?.get(clientId) ?? [])];
  }

  addConsent(userId: string, clientId: string, scopes: string[], ttlMs: number): void {
    const byClient = new Map(this.#consents.get(userId) ?? []);
    const merged = new Set([...(byClient.get(clientId) ?? []), ...scopes]);
    byClient.set(clientId, [...merged].sort());
    this.#consents.set(userId, byClient, ttlMs);
  }

  listConsents(userId: string): ConsentRecord[] {
    const byClient = this.#consents.get(userId);
    if (!byClient) return [];
    const expiresAt = this.#now() + this.#consents.remainingMs(userId);
    return [...byClient]
      .sort(([one], [two]) => (one < two ? -1 : one > two ? 1 : 0))
      .map(([clientId, scopes]) => ({ clientId, scopes: [...scopes], expiresAt }));
  }

  withdrawConsent(userId: string, clientId: string): boolean {
    const byClient = this.#consents.get(userId);
    if (!byClient?.has(clientId)) return false;
    const rest = new Map(byClient);
    rest.delete(clientId);
    // The others keep the lifetime they had; nothing left, nothing kept.
    if (rest.size === 0) this.#consents.delete(userId);
    else this.#consents.replace(userId, rest);
    return true;
  }

  forgetConsents(userId: string): void {
    this.#consents.delete(userId);
  }
}
