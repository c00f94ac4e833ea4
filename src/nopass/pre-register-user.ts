/**
 * PreRegisterUser: starts registering a user with NoPass. NoPass answers with a one-time
 * password, which its ConfirmUserRegistration callback will name, and the link the browser is
 * sent to for installing and setting up the app.
 */
import { z } from 'zod';
import type { UserRegistrationRequest, UserRegistrationStarted } from './types.ts';
import type { PortalCredentials, SendCall } from './envelope.ts';
import { httpUrl, MAX_TEXT, readResult } from './fields.ts';

const OP = 'PreRegisterUser';
const PATH = '/api/UserRegistration/PreRegisterUser';

/** The request body, as the guide names its fields. */
export interface PreRegisterUserBody {
  portalId: string;
  userId: string;
  clientIP: string;
  redirectUrl: string;
  /** Empty unless the registration goes through a social network. */
  socialNetwork: string;
  /** The user's details; left out for a registration through a social network. */
  data?: { givenName?: string; surName?: string; phoneNumber?: string; email?: string };
}

const resultSchema = z.object({
  otp: z.string().min(1).max(MAX_TEXT),
  registerLink: httpUrl,
});

/** Calls PreRegisterUser and returns the checked one-time password and registration link. */
export async function preRegisterUser(
  send: SendCall,
  portal: PortalCredentials,
  request: UserRegistrationRequest,
): Promise<UserRegistrationStarted> {
  const body: PreRegisterUserBody = {
    portalId: portal.portalId,
    userId: request.userId,
    clientIP: request.clientIP,
    redirectUrl: request.redirectUrl,
    socialNetwork: request.socialNetwork ?? '',
  };
  if (request.data !== undefined) body.data = request.data;

  const { result } = await send({
    op: OP,
    path: PATH,
    authToken: portal.authToken,
    body,
    idempotent: false,
  });
  return readResult(OP, resultSchema, result);
}
