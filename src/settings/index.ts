/**
 * Every setting the bridge reads, checked once at start-up. A wrong value stops start-up with
 * a message naming the setting; in production (`NODE_ENV=production`) a missing safety-relevant
 * setting does too. The names are the ones in the README's configuration table.
 */
import { isIP } from 'node:net';
import { registrationSettings, type RegistrationSettings } from './registration.ts';
import { socialSettings } from './social.ts';
import type { SocialNetwork } from '../state/types.ts';
import type { LogFormat } from '../log.ts';

export interface Settings {
  port: number;
  /** `HOST`: the address to listen on; undefined means every interface. */
  host: string | undefined;
  /** Public issuer URL, no trailing slash. */
  issuer: string;
  production: boolean;
  /** Where shared state lives; undefined means process memory (one instance). */
  redis: RedisSettings | undefined;
  /** NoPass server base URL; undefined means the embedded simulator (quickstart). */
  nopassServerUrl: string | undefined;
  /** Port of the embedded simulator when `nopassServerUrl` is unset. */
  simulatorPort: number;
  adminId: string;
  sCode: string;
  /** A portal registration supplied by the operator instead of awaited from NoPass. */
  configuredPortal: { portalId: string; authToken: string } | undefined;
  /** Path prefix before `/api/PortalCommunication`, '' or starting with '/'. */
  callbackPrefix: string;
  callbackAllow: string[];
  clientsFile: string;
  /** Cookie signing secrets; undefined means generate once and keep in the store. */
  cookieKeys: string[] | undefined;
  jwksFile: string | undefined;
  trustProxy: boolean;
  logLevel: string;
  /** `LOG_FORMAT`; undefined means readable lines in the quickstart at a terminal, else JSON. */
  logFormat: LogFormat | undefined;
  /** Bearer token a scraper must present at /metrics; undefined leaves /metrics open. */
  metricsToken: string | undefined;
  /** True when anything was generated or embedded for a newcomer's first run. */
  quickstart: boolean;
  /** Lifetime of a pending login, as the vendor's sample uses. */
  loginTtlMs: number;
  /** Extra time after a picture's `nextChange` before a waiting login counts as expired. */
  pictureGraceMs: number;
  /** Timeout of one outbound NoPass call. */
  nopassTimeoutMs: number;
  /** The circuit breaker in front of the NoPass server (nopass/circuit.ts). */
  nopassCircuit: NoPassCircuitSettings;
  branding: Branding;
  /** Registration from the hosted pages and its policy (settings/registration.ts). */
  registration: RegistrationSettings;
  /** `NOPASS_SOCIAL`: social networks offered on the user id page (settings/social.ts). */
  social: SocialNetwork[];
  /** `RATE_LIMIT_*`: how often the sign-in forms and the callbacks may be used. */
  rateLimits: RateLimitSettings;
}

/**
 * Attempts allowed per window (`RATE_LIMIT_WINDOW_SECONDS`), counted per client address for the
 * sign-in forms, per user id for sign-ins and registrations, and per source address for the
 * NoPass callbacks. 0 turns a limit off.
 */
export interface RateLimitSettings {
  windowSeconds: number;
  signInPerIp: number;
  signInPerUser: number;
  callbacksPerIp: number;
}

/**
 * When the circuit in front of the NoPass server opens: within the last `windowMs`, at least
 * `minCalls` calls were made and more than `failurePercent` of them found the server
 * unavailable. It stays open `resetMs`, then lets one call through as a probe.
 */
export interface NoPassCircuitSettings {
  /** `NOPASS_CIRCUIT_ENABLED`: false sends every call whatever happened before. */
  enabled: boolean;
  minCalls: number;
  failurePercent: number;
  windowMs: number;
  resetMs: number;
}

/** How the hosted pages present the organisation running the bridge. */
export interface Branding {
  /** Product name in the header and page titles; the translated default when unset. */
  name: string | undefined;
  /** Path of a PNG, SVG or JPEG logo file served at /static/logo. */
  logoFile: string | undefined;
  /** Accent colour (#rgb or #rrggbb) of buttons and links. */
  color: string | undefined;
  /** Where the footer's help link goes. */
  supportUrl: string | undefined;
}

/** A Sentinel or Cluster node as `host:port`. */
export interface RedisNode {
  host: string;
  port: number;
}

/**
 * Redis, reached one of three ways: a `redis://`/`rediss://` URL (one server, or a managed
 * endpoint), Sentinel (`sentinels` + `sentinelName`), or Cluster (`clusterNodes`). With
 * Sentinel and Cluster the URL, if any, only contributes credentials, the database number and
 * TLS (`rediss:`).
 */
export interface RedisSettings {
  url: string | undefined;
  sentinels: RedisNode[] | undefined;
  sentinelName: string | undefined;
  sentinelPassword: string | undefined;
  clusterNodes: RedisNode[] | undefined;
  /** Put before every key and the event channel, so several deployments can share a Redis. */
  keyPrefix: string;
}

function branding(env: Env): Branding {
  const color = env.BRAND_COLOR?.trim() || undefined;
  if (color !== undefined && !/^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(color)) {
    throw new SettingsError('BRAND_COLOR', `expected a colour such as #0a58ca, got "${color}"`);
  }
  const logoFile = env.BRAND_LOGO_FILE?.trim() || undefined;
  if (logoFile !== undefined && !/\.(png|svg|jpe?g)$/i.test(logoFile)) {
    throw new SettingsError('BRAND_LOGO_FILE', 'expected a .png, .svg or .jpg file');
  }
  const name = env.BRAND_NAME?.trim() || undefined;
  if (name !== undefined && name.length > 80) {
    throw new SettingsError('BRAND_NAME', 'must be at most 80 characters');
  }
  return { name, logoFile, color, supportUrl: url(env, 'SUPPORT_URL') };
}

function rateLimits(env: Env): RateLimitSettings {
  return {
    windowSeconds: integer(env, 'RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400),
    // A busy office or campus can sign in from one address: generous per address, strict per
    // user id, which is what keeps a person's phone from being flooded with approval requests.
    signInPerIp: integer(env, 'RATE_LIMIT_SIGNIN_PER_IP', 100, 0, 10_000_000),
    signInPerUser: integer(env, 'RATE_LIMIT_SIGNIN_PER_USER', 10, 0, 10_000_000),
    // A NoPass server under load calls back from few addresses, for every sign-in.
    callbacksPerIp: integer(env, 'RATE_LIMIT_CALLBACKS_PER_IP', 20_000, 0, 10_000_000),
  };
}

export class SettingsError extends Error {
  readonly setting: string;

  constructor(setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = 'SettingsError';
    this.setting = setting;
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

function logFormat(env: Env): LogFormat | undefined {
  const raw = env.LOG_FORMAT?.trim().toLowerCase();
  if (!raw) return undefined;
  if (!(LOG_FORMATS as readonly string[]).includes(raw)) {
    throw new SettingsError('LOG_FORMAT', `expected json or pretty, got "${env.LOG_FORMAT}"`);
  }
  return raw as LogFormat;
}

function metricsToken(env: Env): string | undefined {
  const raw = env.METRICS_TOKEN?.trim();
  if (!raw) return undefined;
  // It travels in an Authorization header: printable, no spaces, and long enough to resist guessing.
  if (raw.length < 16 || raw.length > 256 || !/^[\x21-\x7e]+$/.test(raw)) {
    throw new SettingsError(
      'METRICS_TOKEN',
      'expected 16 to 256 printable characters without spaces',
    );
  }
  return raw;
}

/** `HOST`: an IP address (`127.0.0.1`, `::`) or a host name such as `localhost`. */
function listenHost(env: Env): string | undefined {
  const raw = env.HOST?.trim();
  if (!raw) return undefined;
  if (isIP(raw) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(raw)) {
    throw new SettingsError('HOST', `expected an IP address or a host name, got "${raw}"`);
  }
  return raw;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SettingsError(name, `expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function url(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new SettingsError(name, `expected an absolute URL, got "${raw}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new SettingsError(name, `expected an http or https URL, got "${raw}"`);
  }
  if (parsed.search || parsed.hash) {
    throw new SettingsError(name, 'must not carry a query or fragment');
  }
  return raw.replace(/\/+$/, '');
}

/** A comma-separated setting's items, trimmed, empty ones dropped; undefined when unset. */
export function list(env: Env, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function flag(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false' || raw === 'off' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'on' || raw === 'yes') return true;
  throw new SettingsError(name, `expected true or false, got "${env[name]}"`);
}

function nopassCircuit(env: Env): NoPassCircuitSettings {
  const unset = (env.NOPASS_CIRCUIT_ENABLED ?? '').trim() === '';
  return {
    enabled: unset || flag(env, 'NOPASS_CIRCUIT_ENABLED'),
    minCalls: integer(env, 'NOPASS_CIRCUIT_MIN_CALLS', 5, 1, 10_000),
    // Opens when the share is above this; at 100 it never could.
    failurePercent: integer(env, 'NOPASS_CIRCUIT_FAILURE_PERCENT', 50, 0, 99),
    windowMs: integer(env, 'NOPASS_CIRCUIT_WINDOW_MS', 60_000, 1_000, 3_600_000),
    resetMs: integer(env, 'NOPASS_CIRCUIT_RESET_MS', 30_000, 100, 3_600_000),
  };
}

function prefix(env: Env): string {
  const raw = (env.NOPASS_CALLBACK_PREFIX ?? '').trim().replace(/\/+$/, '');
  if (raw === '') return '';
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(raw.startsWith('/') ? raw : `/${raw}`)) {
    throw new SettingsError(
      'NOPASS_CALLBACK_PREFIX',
      'expected a path such as /hooks/3f9c, made of letters, digits and . _ ~ -',
    );
  }
  return raw.startsWith('/') ? raw : `/${raw}`;
}

function redisUrl(env: Env): string | undefined {
  const raw = env.REDIS_URL?.trim();
  if (!raw) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    // The value may hold a password: never echo it.
    throw new SettingsError('REDIS_URL', 'expected a URL such as redis://redis:6379');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new SettingsError('REDIS_URL', 'expected a redis:// or rediss:// URL');
  }
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) {
    throw new SettingsError('REDIS_URL', 'the path, if any, must be a database number such as /0');
  }
  return raw;
}

/** `host:port` items; an IPv6 host is written in brackets, `[::1]:26379`. */
function nodes(env: Env, name: string, defaultPort: number): RedisNode[] | undefined {
  const items = list(env, name);
  if (items === undefined) return undefined;
  return items.map((item) => {
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+))(?::(\d{1,5}))?$/.exec(item);
    const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
    const host = match?.[1] ?? match?.[2];
    if (!host || port < 1 || port > 65535) {
      throw new SettingsError(name, `expected host:port items separated by commas, got "${item}"`);
    }
    return { host, port };
  });
}

function redisSettings(env: Env): RedisSettings | undefined {
  const url = redisUrl(env);
  const sentinels = nodes(env, 'REDIS_SENTINELS', 26379);
  const sentinelName = env.REDIS_SENTINEL_NAME?.trim() || undefined;
  const clusterNodes = nodes(env, 'REDIS_CLUSTER_NODES', 6379);

  if (sentinels && clusterNodes) {
    throw new SettingsError(
      'REDIS_CLUSTER_NODES',
      'set either REDIS_SENTINELS (Sentinel) or REDIS_CLUSTER_NODES (Cluster), not both',
    );
  }
  if (sentinels && !sentinelName) {
    throw new SettingsError(
      'REDIS_SENTINEL_NAME',
      'name the master the sentinels watch (the name in sentinel.conf)',
    );
  }
  if (sentinelName && !sentinels) {
    throw new SettingsError('REDIS_SENTINELS', 'list the sentinels as host:port, comma-separated');
  }
  if (clusterNodes && url && !/^\/?0?$/.test(new URL(url).pathname)) {
    throw new SettingsError('REDIS_URL', 'Redis Cluster has database 0 only');
  }
  if (!url && !sentinels && !clusterNodes) return undefined;

  const keyPrefix = env.REDIS_KEY_PREFIX?.trim() || 'nopass:';
  if (keyPrefix.length > 64 || /\s/.test(keyPrefix)) {
    throw new SettingsError('REDIS_KEY_PREFIX', 'at most 64 characters, no spaces');
  }
  return {
    url,
    sentinels,
    sentinelName,
    sentinelPassword: env.REDIS_SENTINEL_PASSWORD || undefined,
    clusterNodes,
    keyPrefix,
  };
}

/** An S-code as the vendor's guide wants it: 8+ characters, capitals, and digits or symbols. */
function checkSCode(sCode: string): void {
  if (sCode.length < 8 || !/[A-Z]/.test(sCode) || !/[^A-Za-z]/.test(sCode)) {
    throw new SettingsError(
      'NOPASS_S_CODE',
      'must be at least 8 characters with capital letters and digits or symbols',
    );
  }
}

/**
 * Reads the settings from `env`. `generate` supplies random values for what the quickstart
 * may make up (admin id, S-code); it is a parameter so tests get stable values.
 */
export function readSettings(env: Env, generate: (bytes: number) => string): Settings {
  const production = env.NODE_ENV === 'production';
  const port = integer(env, 'PORT', 3000, 1, 65535);
  const issuer = url(env, 'ISSUER') ?? `http://localhost:${port}`;
  if (new URL(issuer).pathname !== '/') {
    // oidc-provider builds its endpoints from the root of the host, so a path in the issuer
    // would advertise endpoints that do not exist.
    throw new SettingsError(
      'ISSUER',
      'must be the root of its host, without a path (for example https://login.example.com)',
    );
  }
  const nopassServerUrl = url(env, 'NOPASS_SERVER_URL');
  const redis = redisSettings(env);
  const cookieKeys = list(env, 'COOKIE_KEYS');

  const logLevel = (env.LOG_LEVEL ?? 'info').trim().toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new SettingsError('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}`);
  }

  const adminId = env.NOPASS_ADMIN_ID?.trim() || undefined;
  if (adminId !== undefined && adminId.length >= 64) {
    throw new SettingsError('NOPASS_ADMIN_ID', 'must be shorter than 64 characters');
  }
  const sCode = env.NOPASS_S_CODE?.trim() || undefined;
  if (sCode !== undefined) checkSCode(sCode);

  const portalId = env.NOPASS_PORTAL_ID?.trim() || undefined;
  const authToken = env.NOPASS_AUTH_TOKEN?.trim() || undefined;
  if ((portalId === undefined) !== (authToken === undefined)) {
    throw new SettingsError(
      portalId === undefined ? 'NOPASS_PORTAL_ID' : 'NOPASS_AUTH_TOKEN',
      'NOPASS_PORTAL_ID and NOPASS_AUTH_TOKEN are set together or not at all',
    );
  }
  for (const [name, value] of [
    ['NOPASS_PORTAL_ID', portalId],
    ['NOPASS_AUTH_TOKEN', authToken],
  ] as const) {
    if (value !== undefined && value.length > 256) {
      throw new SettingsError(name, 'must be at most 256 characters');
    }
  }

  if (cookieKeys?.some((key) => key.length < 32)) {
    throw new SettingsError('COOKIE_KEYS', 'each key must be at least 32 characters');
  }
  if (nopassServerUrl !== undefined && portalId === undefined) {
    // Outside the quickstart the NoPass server checks these during portal registration, so
    // made-up values could never work.
    for (const [name, value] of [
      ['NOPASS_ADMIN_ID', adminId],
      ['NOPASS_S_CODE', sCode],
    ] as const) {
      if (value === undefined) {
        throw new SettingsError(
          name,
          'is required with NOPASS_SERVER_URL (the admin login and S-code you give NoPass when ' +
            'registering the portal), unless NOPASS_PORTAL_ID and NOPASS_AUTH_TOKEN are set',
        );
      }
    }
  }

  if (production) {
    const missing: [string, unknown][] = [
      ['NOPASS_SERVER_URL', nopassServerUrl],
      ['ISSUER', env.ISSUER],
      ['COOKIE_KEYS', cookieKeys],
      // The signing keys are the bridge's most valuable secret: the operator's, in a file.
      ['JWKS_FILE', env.JWKS_FILE?.trim() || undefined],
      // The bundled clients file is an example with a published secret.
      ['CLIENTS_FILE', env.CLIENTS_FILE?.trim() || undefined],
    ];
    if (portalId === undefined) {
      missing.push(['NOPASS_ADMIN_ID', adminId], ['NOPASS_S_CODE', sCode]);
    }
    // Every missing setting at once, so one restart is enough to fix them all.
    const names = missing.filter(([, value]) => value === undefined).map(([name]) => name);
    if (names.length > 0) {
      const [first] = names as [string];
      throw new SettingsError(
        first,
        `${names.length > 1 ? `(and ${names.slice(1).join(', ')}) ` : ''}` +
          `${names.length > 1 ? 'are' : 'is'} required when NODE_ENV=production`,
      );
    }
    if (!issuer.startsWith('https://')) {
      throw new SettingsError('ISSUER', 'must be an https URL when NODE_ENV=production');
    }
  }

  return {
    port,
    host: listenHost(env),
    issuer,
    production,
    redis,
    nopassServerUrl,
    simulatorPort: integer(env, 'SIMULATOR_PORT', port === 0 ? 0 : port + 1, 0, 65535),
    adminId: adminId ?? `quickstart-${generate(6)}`,
    sCode: sCode ?? `Q${generate(16).toUpperCase()}9`,
    configuredPortal:
      portalId !== undefined && authToken !== undefined ? { portalId, authToken } : undefined,
    callbackPrefix: prefix(env),
    callbackAllow: list(env, 'NOPASS_CALLBACK_ALLOW') ?? [],
    clientsFile: env.CLIENTS_FILE?.trim() || 'config/clients.json',
    cookieKeys,
    jwksFile: env.JWKS_FILE?.trim() || undefined,
    trustProxy: flag(env, 'TRUST_PROXY'),
    logLevel,
    logFormat: logFormat(env),
    metricsToken: metricsToken(env),
    quickstart: nopassServerUrl === undefined,
    loginTtlMs: integer(env, 'LOGIN_TTL_MS', 360_000, 10_000, 3_600_000),
    pictureGraceMs: integer(env, 'PICTURE_GRACE_MS', 5_000, 0, 600_000),
    nopassTimeoutMs: integer(env, 'NOPASS_TIMEOUT_MS', 10_000, 100, 120_000),
    nopassCircuit: nopassCircuit(env),
    branding: branding(env),
    registration: registrationSettings(env),
    social: socialSettings(env),
    rateLimits: rateLimits(env),
  };
}
