/**
 * What the interaction flow needs from the rest of the bridge, passed in explicitly.
 */
import type { Provider } from 'oidc-provider';
import type { Metrics } from '../http/metrics.ts';
import type { RateLimits } from '../http/rate-limits.ts';
import type { Logger } from '../log.ts';
import type { NoPassClient } from '../nopass/types.ts';
import type { Settings } from '../settings/index.ts';
import type { Bus, Store } from '../state/types.ts';
import type { Views } from '../http/views.ts';

export interface InteractionDeps {
  provider: Provider;
  nopass: NoPassClient;
  store: Store;
  bus: Bus;
  settings: Settings;
  views: Views;
  /** The root logger; request handlers log through the request's own (`requestLog`). */
  log: Logger;
  metrics: Metrics;
  /** The cookie signing keys (COOKIE_KEYS): they also key the forms' anti-forgery tokens. */
  cookieKeys: readonly string[];
  now: () => number;
  /** How often an address or a user id may start a sign-in or a registration. */
  rateLimits: RateLimits;
  /** Where the simulator's phone page is, in quickstart mode only. */
  phoneUrl?: (userId: string) => string;
  /** Aborted when the instance shuts down: open event streams are told to reconnect elsewhere. */
  closing?: AbortSignal;
}
