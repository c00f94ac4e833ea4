/**
 * RequestAuthorization: starts a sign-in for a user id. NoPass answers with the authId that its
 * callbacks will name, the first picture and how long it is shown. The guide puts `loginUrl`
 * inside `result`; the vendor's sample reads it beside `result`: both are accepted.
 */
import { z } from 'zod';
import type { AuthorizationRequest, AuthorizationStarted } from './types.ts';
import type { PortalCredentials, SendCall } from './envelope.ts';
import { optionalHttpUrl, readResult } from './fields.ts';
import { isPngBase64, nextChangeMs } from './picture.ts';

const OP = 'RequestAuthorization';
const PATH = '/api/UserAuthentication/RequestAuthorization';

/** The request body, as the guide names its fields. */
export interface RequestAuthorizationBody {
  portalId: string;
  userId: string;
  /** 0 Google, 1 Facebook; left out for a NoPass sign-in. */
  social?: number;
}

const resultSchema = z.object({
  authId: z.string().min(1).max(256),
  image: z.string().refine(isPngBase64, 'expected base64 of a PNG picture'),
  nextChange: nextChangeMs,
  loginUrl: optionalHttpUrl,
});

/** The vendor's sample sends `loginUrl` beside `result` instead. */
const besideSchema = z.object({ loginUrl: optionalHttpUrl });

/** Calls RequestAuthorization and returns the checked start of the sign-in. */
export async function requestAuthorization(
  send: SendCall,
  portal: PortalCredentials,
  request: AuthorizationRequest,
): Promise<AuthorizationStarted> {
  const body: RequestAuthorizationBody = { portalId: portal.portalId, userId: request.userId };
  if (request.social !== undefined) body.social = request.social;

  const { result, members } = await send({
    op: OP,
    path: PATH,
    authToken: portal.authToken,
    body,
    idempotent: false,
  });
  const started = readResult(OP, resultSchema, result);
  const loginUrl = started.loginUrl ?? readResult(OP, besideSchema, members).loginUrl;

  return {
    authId: started.authId,
    image: started.image,
    nextChange: started.nextChange,
    ...(loginUrl === undefined ? {} : { loginUrl }),
  };
}
