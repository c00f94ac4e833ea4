/**
 * The bridge's error model. Every failure the bridge raises on purpose is a `BridgeError`: an
 * HTTP status, a snake_case code for machines, a description that is safe to show a person, an
 * internal detail for the logs only, and the original error as `cause`. The error middleware
 * (http/error-handler.ts) turns these into a page or a JSON body; anything else becomes a
 * generic 500 with nothing internal in it.
 */

export interface BridgeErrorOptions {
  /** Internal detail for logs; never sent to a client. */
  detail?: string;
  /** Overrides the default (safe to show below 500). */
  expose?: boolean;
  cause?: unknown;
}

export class BridgeError extends Error {
  readonly status: number;
  readonly code: string;
  /** Safe to show to the user or caller. */
  readonly description: string;
  readonly detail: string | undefined;
  /** Whether `description` may be sent to the client (every status below 500). */
  readonly expose: boolean;

  constructor(status: number, code: string, description: string, options: BridgeErrorOptions = {}) {
    super(description, { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.description = description;
    this.detail = options.detail;
    this.expose = options.expose ?? status < 500;
  }
}

/** A request that is malformed or names nothing the bridge knows. */
export class BadRequest extends BridgeError {
  constructor(description: string, options?: BridgeErrorOptions) {
    super(400, 'invalid_request', description, options);
  }
}

/** A page or record that does not exist (or no longer does). */
export class NotFound extends BridgeError {
  constructor(description: string, options?: BridgeErrorOptions) {
    super(404, 'not_found', description, options);
  }
}

/** The sign-in this browser was in the middle of is gone or was never started here. */
export class PendingLoginNotFound extends BridgeError {
  constructor(options?: BridgeErrorOptions) {
    super(
      404,
      'login_not_found',
      'This sign-in is no longer in progress. Please start again from the application.',
      options,
    );
  }
}

/** The NoPass server could not be reached, timed out, or answered with something unreadable. */
export class NoPassUnavailable extends BridgeError {
  constructor(options?: BridgeErrorOptions) {
    super(
      503,
      'nopass_unavailable',
      'The NoPass service is not answering right now. Please try again in a moment.',
      options,
    );
  }
}

/**
 * The NoPass server has been failing, so the circuit in front of it is open: the call was not
 * sent (nopass/circuit.ts). People see the same "try again" page as for any outage.
 */
export class NoPassCircuitOpen extends NoPassUnavailable {}

/**
 * The NoPass server answered and said no: an `errors` array in its envelope, or a 4xx with one.
 * The vendor's code and message are kept for logs; the description stays generic because the
 * vendor's message can reveal whether a user id exists.
 */
export class NoPassRefused extends BridgeError {
  readonly vendorCode: string | undefined;
  readonly vendorMessage: string | undefined;
  readonly httpStatus: number;

  constructor(
    httpStatus: number,
    vendorCode: string | undefined,
    vendorMessage: string | undefined,
    options?: BridgeErrorOptions,
  ) {
    super(
      400,
      'nopass_refused',
      'NoPass could not start a sign-in for this user id. Check the user id, or register with ' +
        'NoPass first.',
      options,
    );
    this.httpStatus = httpStatus;
    this.vendorCode = vendorCode;
    this.vendorMessage = vendorMessage;
  }
}

/**
 * The NoPass server refused this portal's credentials (HTTP 401 or 403): the portal id or auth
 * token is wrong or was revoked. Nothing a person can fix; an operator must.
 */
export class NoPassCredentialsRejected extends BridgeError {
  constructor(options?: BridgeErrorOptions) {
    super(
      503,
      'nopass_credentials_rejected',
      'Sign-in is not available right now: NoPass did not accept this service. Please try ' +
        'again later.',
      options,
    );
  }
}

/** No portal registration yet: outbound NoPass calls cannot be authenticated. */
export class PortalNotRegistered extends BridgeError {
  constructor(options?: BridgeErrorOptions) {
    super(
      503,
      'portal_not_registered',
      'Sign-in is not available yet: this service has not finished registering with NoPass.',
      options,
    );
  }
}

/**
 * The shared store (Redis) did not answer in time or refused the command. Raised by the store
 * for every request that needs it while it is away, so the request fails at once with a page
 * or JSON saying to try again, instead of hanging until Redis returns.
 *
 * Besides the bridge's own fields it carries the shape oidc-provider's error handlers read
 * (`statusCode`, `error_description`, `message` as the wire error code, `allow_redirect`), so a
 * store failure inside one of the provider's own endpoints becomes the same 503
 * `store_unavailable`, shown to the browser rather than redirected to the relying party.
 */
export class StoreUnavailable extends BridgeError {
  readonly statusCode = 503;
  readonly error = 'store_unavailable';
  readonly error_description: string;
  readonly allow_redirect = false;

  constructor(options?: BridgeErrorOptions) {
    super(
      503,
      'store_unavailable',
      'The sign-in service is temporarily unavailable. Please try again in a moment.',
      { expose: true, ...options },
    );
    this.error_description = this.description;
    this.message = 'store_unavailable';
  }
}

/**
 * Too many attempts from one address, or for one user id, within a rate limit's window
 * (http/rate-limits.ts). The description is the same whichever limit was reached, so a refusal
 * never tells whether a user id exists. `retryAfterS` becomes the Retry-After header.
 */
export class RateLimited extends BridgeError {
  /** Whole seconds until the limit's window ends. */
  readonly retryAfterS: number;
  /** Where a person can try again once the wait is over (the sign-in's first page), if any. */
  readonly backUrl: string | undefined;

  constructor(retryAfterS: number, options: BridgeErrorOptions & { backUrl?: string } = {}) {
    super(429, 'rate_limited', 'Too many attempts. Please wait a moment and try again.', options);
    this.retryAfterS = retryAfterS;
    this.backUrl = options.backUrl;
  }
}

/**
 * A form sent without the anti-forgery token of the page it belongs to, or with another
 * page's (http/csrf.ts): a page of another site, or a page older than its token. `backUrl`
 * is where the person can start again.
 */
export class CsrfTokenRejected extends BridgeError {
  /** The page to start again from, linked from the error page. */
  readonly backUrl: string | undefined;

  constructor(options: BridgeErrorOptions & { backUrl?: string } = {}) {
    super(
      403,
      'csrf_token_invalid',
      "The form was not accepted because it did not come from this site's own page, or the " +
        'page was out of date. Open the page again and send the form from there.',
      options,
    );
    this.backUrl = options.backUrl;
  }
}
