/**
 * DeleteInitialPortal: deletes a user's NoPass account for this portal. Before answering, the
 * NoPass server calls the portal's DeleteUser callback; the answer is the deletion session id.
 */
import { z } from 'zod';
import type { PortalCredentials, SendCall } from './envelope.ts';
import { MAX_TEXT, readResult } from './fields.ts';

const OP = 'DeleteInitialPortal';
const PATH = '/api/UserDelete/DeleteInitialPortal';

/** The request body, as the guide names its fields. */
export interface DeleteInitialPortalBody {
  portalId: string;
  userId: string;
}

const resultSchema = z.string().max(MAX_TEXT);

/** Calls DeleteInitialPortal and returns NoPass's deletion session id. */
export async function deleteInitialPortal(
  send: SendCall,
  portal: PortalCredentials,
  userId: string,
): Promise<string> {
  const body: DeleteInitialPortalBody = { portalId: portal.portalId, userId };
  const { result } = await send({
    op: OP,
    path: PATH,
    authToken: portal.authToken,
    body,
    idempotent: false,
  });
  return readResult(OP, resultSchema, result);
}
