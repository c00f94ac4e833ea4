/**
 * CloseAuthSession: ends a NoPass authentication session when the user signs out. Closing a
 * session twice leaves it closed, so this is the one call that may be retried.
 */
import { z } from 'zod';
import type { PortalCredentials, SendCall } from './envelope.ts';
import { MAX_TEXT, readResult } from './fields.ts';

const OP = 'CloseAuthSession';
const PATH = '/api/UserAuthentication/CloseAuthSession';

/** The request body, as the guide names its fields. */
export interface CloseAuthSessionBody {
  portalId: string;
  authId: string;
}

// The guide gives the result no meaning; a server that sends none has still closed the session.
const resultSchema = z
  .string()
  .max(MAX_TEXT)
  .nullish()
  .transform((value) => value ?? '');

/** Calls CloseAuthSession and returns NoPass's result string ('' when it sent none). */
export async function closeAuthSession(
  send: SendCall,
  portal: PortalCredentials,
  authId: string,
): Promise<string> {
  const body: CloseAuthSessionBody = { portalId: portal.portalId, authId };
  const { result } = await send({
    op: OP,
    path: PATH,
    authToken: portal.authToken,
    body,
    idempotent: true,
  });
  return readResult(OP, resultSchema, result);
}
