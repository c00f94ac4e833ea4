/**
 * `nopass-bridge portal show|open-window <minutes>`: the bridge's NoPass portal registration.
 *
 * `show` prints the portal id and where it comes from, never the auth token. `open-window`
 * lets NoPass register the portal again for a limited time although one is stored (after the
 * administrator re-registered it, or to move it to another NoPass account): until the window
 * ends, ConfirmPreRegistration and ConfirmRegistration are answered, and the first
 * registration to arrive replaces the stored one and closes the window.
 */
import { UsageError, when, withStore, type OperatorContext, type Output } from './operator.ts';

export const PORTAL_USAGE = [
  'usage: nopass-bridge portal show',
  '       nopass-bridge portal open-window <minutes, 1 to 1440>',
].join('\n');

async function show({ settings, store, output, now }: OperatorContext): Promise<number> {
  if (settings.configuredPortal) {
    output.out(`Portal id: ${settings.configuredPortal.portalId} (from NOPASS_PORTAL_ID)`);
  }
  const stored = await store.getPortal();
  if (stored) {
    const note = settings.configuredPortal ? ', not used while NOPASS_PORTAL_ID is set' : '';
    output.out(
      `${settings.configuredPortal ? 'Stored portal id' : 'Portal id'}: ${stored.portalId} ` +
        `(registered ${when(stored.registeredAt)}${note})`,
    );
  }
  if (!settings.configuredPortal && !stored) {
    output.out('No portal registered yet: the bridge awaits its registration with NoPass.');
  }
  const window = await store.getPortalWindow(now());
  output.out(
    window === undefined
      ? 'Re-registration window: closed.'
      : `Re-registration window: open until ${when(window)}.`,
  );
  return 0;
}

async function openWindow(
  { settings, store, output, now }: OperatorContext,
  minutes: number,
): Promise<number> {
  if (settings.configuredPortal) {
    output.err(
      'NOPASS_PORTAL_ID is set, so the bridge uses that registration and accepts no other. ' +
        'Unset NOPASS_PORTAL_ID and NOPASS_AUTH_TOKEN on the bridge first.',
    );
    return 1;
  }
  const until = now() + minutes * 60_000;
  await store.openPortalWindow(until);
  output.out(
    `Re-registration window open until ${when(until)}. Register the portal on NoPass's portal ` +
      'registration page within that time; the first registration to arrive replaces the ' +
      'stored one and closes the window.',
  );
  return 0;
}

/** Runs `portal …`; returns the exit code. */
export async function runPortalCommand(
  args: string[],
  env: Record<string, string | undefined>,
  output: Output,
): Promise<number> {
  const [action, value, ...extra] = args;
  let minutes = 0;
  try {
    if (action === 'show') {
      if (value !== undefined) throw new UsageError('"portal show" takes no argument');
    } else if (action === 'open-window') {
      minutes = Number(value);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440 || extra.length > 0) {
        throw new UsageError('"portal open-window" takes a whole number of minutes, 1 to 1440');
      }
    } else {
      throw new UsageError(`unknown portal command "${action ?? ''}"`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.err(`${error.message}\n${PORTAL_USAGE}`);
    return 2;
  }
  return withStore(env, output, (context) =>
    action === 'show' ? show(context) : openWindow(context, minutes),
  );
}
