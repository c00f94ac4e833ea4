/**
 * Every key and channel the bridge uses in Redis, in one place, each under the deployment's
 * prefix (`REDIS_KEY_PREFIX`, default `nopass:`):
 *
 *   login:<authId>                 pending login, JSON, expires with the sign-in
 *   login-by-interaction:<uid>     the interaction's newest authId, same lifetime
 *   portal                         the portal registration, JSON, written once (SET NX) or
 *                                  replaced through an open window
 *   portal-window                  end of the operator's re-registration window, epoch ms
 *   user:<userId>                  a user, JSON
 *   users                          set of every user id, for listing
 *   registration:<otp>             pending registration, JSON, expires with it
 *   registration-by-id:<id>        the bridge's registration id → otp, same lifetime
 *   secret:<name>                  generated signing keys and cookie keys, written once
 *   oidc:<model>:<id>              oidc-provider record: hash of `payload` (JSON), `consumed`
 *   oidc-uid:<model>:<uid>         uid → id, same lifetime as the record
 *   oidc-usercode:<model>:<code>   user code → id, same lifetime as the record
 *   oidc-grant:<grantId>           set of record keys issued under a grant
 *   oidc-account:<accountId>       set of `Grant:<id>` and `Session:<id>` saved for an account
 *   session-auths:<sessionUid>     set of the NoPass authIds behind an OIDC session
 *   consent:<userId>               hash: client id → scopes the user allowed it, space-separated;
 *                                  also the index of the user's consents the account page lists
 *   rate:<limit>:<ref>             a rate limit's count for one address or user id hash,
 *                                  expiring with its window (written by rate-limiter-flexible)
 *   events                         the pub/sub channel of login events
 *
 * Every operation touches one key at a time, so the same layout works on Redis Cluster.
 */

/** The names of the keys above, under one prefix. */
export interface RedisKeys {
  login(authId: string): string;
  loginByInteraction(uid: string): string;
  portal: string;
  portalWindow: string;
  user(userId: string): string;
  users: string;
  registration(otp: string): string;
  registrationById(id: string): string;
  secret(name: string): string;
  oidc(model: string, id: string): string;
  oidcLookup(model: string, kind: 'uid' | 'usercode', value: string): string;
  grant(grantId: string): string;
  account(accountId: string): string;
  sessionAuths(sessionUid: string): string;
  consent(userId: string): string;
  /** What the counters of one rate limit start with; the limiter adds `:<ref>`. */
  rateLimit(limit: string): string;
  events: string;
}

/** The key names for a deployment using `prefix`. */
export function redisKeys(prefix: string): RedisKeys {
  return {
    login: (authId) => `${prefix}login:${authId}`,
    loginByInteraction: (uid) => `${prefix}login-by-interaction:${uid}`,
    portal: `${prefix}portal`,
    portalWindow: `${prefix}portal-window`,
    user: (userId) => `${prefix}user:${userId}`,
    users: `${prefix}users`,
    registration: (otp) => `${prefix}registration:${otp}`,
    registrationById: (id) => `${prefix}registration-by-id:${id}`,
    secret: (name) => `${prefix}secret:${name}`,
    oidc: (model, id) => `${prefix}oidc:${model}:${id}`,
    oidcLookup: (model, kind, value) => `${prefix}oidc-${kind}:${model}:${value}`,
    grant: (grantId) => `${prefix}oidc-grant:${grantId}`,
    account: (accountId) => `${prefix}oidc-account:${accountId}`,
    sessionAuths: (sessionUid) => `${prefix}session-auths:${sessionUid}`,
    consent: (userId) => `${prefix}consent:${userId}`,
    rateLimit: (limit) => `${prefix}rate:${limit}`,
    events: `${prefix}events`,
  };
}
