/**
 * PreRegisterUser: starts a user registration and answers with a one-time code and the link the
 * portal sends the browser to. The link opens the simulator's registration page, which plays
 * the app's part (user-accounts.ts): ValidateUserRegistration and ConfirmUserRegistration to
 * the portal, then the browser goes back to `redirectUrl`.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { isJsonObject, readField } from '../casing.ts';
import { httpUrl, optionalText, Problem, requiredText } from '../http.ts';
import type { OperationInput } from '../server-api.ts';
import type { RegistrationData } from '../state.ts';

/** The envelope's `result` for PreRegisterUser. */
export interface UserRegistrationResult {
  otp: string;
  registerLink: string;
}

const DATA_FIELDS = ['givenName', 'surName', 'phoneNumber', 'email'] as const;

export function preRegisterUser({
  sim,
  portal,
  body,
  baseUrl,
}: OperationInput): UserRegistrationResult {
  const userId = requiredText(body, 'userId', { max: 36, allowEmpty: true });
  const socialNetwork = optionalText(body, 'socialNetwork', { max: 64, allowEmpty: true });
  if (userId === '' && !socialNetwork) {
    throw new Problem(400, 'userId may be empty only when socialNetwork is given.');
  }
  const clientIP = requiredText(body, 'clientIP', { max: 64 });
  if (isIP(clientIP) === 0) throw new Problem(400, 'clientIP must be an IP address.');
  const redirectUrl = httpUrl(
    requiredText(body, 'redirectUrl', { max: 2084 }),
    'redirectUrl',
    true,
  );
  const data = readField(body, 'data');
  const details: RegistrationData = {};
  if (data !== undefined && data !== null) {
    if (!isJsonObject(data)) throw new Problem(400, 'data must be an object.');
    for (const field of DATA_FIELDS) {
      const value = optionalText(data, field, { max: 2084, allowEmpty: true });
      if (value) details[field] = value;
    }
  }

  const otp = randomBytes(24).toString('base64url');
  const registerLink = `${baseUrl}/register/${otp}`;
  sim.registrations.set(otp, {
    otp,
    portalId: portal.portalId,
    userId,
    redirectUrl,
    registerLink,
    data: details,
    status: 'started',
    createdAt: sim.now(),
  });
  return { otp, registerLink };
}
