/**
 * What the bridge asks of a NoPass server: the four outbound operations of the vendor's guide,
 * as typed calls. Only nopass/client.ts knows URLs, headers and the envelope; everything else
 * depends on this interface.
 *
 * Failures are typed (http/errors.ts): `NoPassUnavailable` when the server cannot be reached,
 * times out, answers 5xx or answers something unreadable; `NoPassRefused` when it answers with
 * an `errors` array; `PortalNotRegistered` when there are no portal credentials yet.
 */
import type { Logger } from '../log.ts';

export interface AuthorizationRequest {
  userId: string;
  /** Social network to authenticate with: 0 Google, 1 Facebook. */
  social?: number;
}

export interface AuthorizationStarted {
  authId: string;
  /** Base64 of a PNG-8 picture, already checked to be one. */
  image: string;
  /** Milliseconds until the picture changes. */
  nextChange: number;
  /** Where to send the browser for a social network sign-in, when NoPass gives one. */
  loginUrl?: string;
}

export interface UserRegistrationRequest {
  userId: string;
  clientIP: string;
  redirectUrl: string;
  socialNetwork?: string;
  data?: { givenName?: string; surName?: string; phoneNumber?: string; email?: string };
}

export interface UserRegistrationStarted {
  otp: string;
  registerLink: string;
}

/** What a call is made for: its log line then carries the request's and sign-in's fields. */
export interface CallContext {
  log?: Logger;
}

export interface NoPassClient {
  requestAuthorization(
    request: AuthorizationRequest,
    context?: CallContext,
  ): Promise<AuthorizationStarted>;
  preRegisterUser(
    request: UserRegistrationRequest,
    context?: CallContext,
  ): Promise<UserRegistrationStarted>;
  /** Returns NoPass's deletion session id. */
  deleteInitialPortal(userId: string, context?: CallContext): Promise<string>;
  closeAuthSession(authId: string, context?: CallContext): Promise<string>;
}
