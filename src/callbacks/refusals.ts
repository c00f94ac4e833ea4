/**
 * The answers a callback gets when the bridge will not apply it. The NoPass server treats any
 * answer but 200 as "the portal refused"; the code tells an operator reading either side's logs
 * which refusal it was. Descriptions name no secret and no stored value.
 */
import { BridgeError } from '../http/errors.ts';
import type { LoginUpdate } from '../state/types.ts';

type LoginFailure = Extract<LoginUpdate, { ok: false }>['reason'];

/** Why a pending login could not take a new picture or a verdict. */
export function loginRefusal(reason: LoginFailure): BridgeError {
  switch (reason) {
    case 'not_found':
      return new BridgeError(400, 'unknown_auth_id', 'No sign-in in progress has this authId.');
    case 'expired':
      return new BridgeError(400, 'login_expired', 'This sign-in has expired.');
    case 'settled':
    case 'consumed':
    case 'not_approved':
      return new BridgeError(400, 'login_settled', 'This sign-in already has its verdict.');
    case 'user_unknown':
      return new BridgeError(
        400,
        'user_unknown',
        'A social network sign-in is approved with the userId of the user NoPass identified.',
      );
  }
}

/** A path under the callback prefix that names no operation. */
export function unknownOperation(): BridgeError {
  return new BridgeError(404, 'unknown_operation', 'There is no such PortalCommunication call.');
}

/** A known operation asked with a method other than POST. */
export function methodNotAllowed(): BridgeError {
  return new BridgeError(405, 'method_not_allowed', 'PortalCommunication calls are POST requests.');
}

/** A caller outside NOPASS_CALLBACK_ALLOW. */
export function sourceNotAllowed(): BridgeError {
  return new BridgeError(403, 'source_not_allowed', 'Calls from this address are not accepted.');
}
