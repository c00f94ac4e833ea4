/**
 * `nopass-bridge users list|show <id>|import <file.json>|delete <id>`: the user directory of
 * the running bridge, read and changed through its shared store (see operator.ts).
 *
 * `delete` asks NoPass first (DeleteInitialPortal). NoPass calls the bridge's DeleteUser before
 * it answers, so a running bridge has usually deleted the user by then; the command deletes
 * again here either way, which changes nothing when it is done already and covers a DeleteUser
 * that never arrived. When NoPass cannot be reached nothing is deleted, because a user left in
 * NoPass could still sign in; `--local` deletes here only, for users NoPass no longer has.
 */
import { readFile } from 'node:fs/promises';
import { BridgeError, NoPassRefused } from '../http/errors.ts';
import { createNoPassClient } from '../nopass/client.ts';
import type { UserRecord } from '../state/types.ts';
import { createUserDeletion } from '../users/deletion.ts';
import { ImportError, readUserFile } from '../users/import.ts';
import { UsageError, when, withStore, type OperatorContext, type Output } from './operator.ts';

export const USERS_USAGE = [
  'usage: nopass-bridge users list [--json]',
  '       nopass-bridge users show <user id>',
  '       nopass-bridge users import <users.json> [--replace]',
  '       nopass-bridge users delete <user id> [--local]',
].join('\n');

interface Parsed {
  action: string;
  target?: string;
  flags: Set<string>;
}

function parse(args: string[]): Parsed {
  const flags = new Set(args.filter((arg) => arg.startsWith('--')));
  const [action = '', target, ...extra] = args.filter((arg) => !arg.startsWith('--'));
  const allowed: Record<string, { target: boolean; flags: string[] }> = {
    list: { target: false, flags: ['--json'] },
    show: { target: true, flags: [] },
    import: { target: true, flags: ['--replace'] },
    delete: { target: true, flags: ['--local'] },
  };
  const rule = allowed[action];
  if (!rule) throw new UsageError(`unknown users command "${action}"`);
  if (rule.target !== (target !== undefined) || extra.length > 0) {
    throw new UsageError(`"users ${action}" takes ${rule.target ? 'one argument' : 'none'}`);
  }
  for (const flag of flags) {
    if (!rule.flags.includes(flag)) throw new UsageError(`"users ${action}" has no ${flag}`);
  }
  return { action, target, flags };
}

function table(users: UserRecord[]): string {
  const rows = [
    ['USER ID', 'REGISTERED', 'LAST SIGN-IN', 'E-MAIL'],
    ...users.map((user) => [
      user.userId,
      when(user.registeredAt),
      when(user.lastSignInAt),
      user.profile.email ? `${user.profile.email}${user.emailVerified ? ' (verified)' : ''}` : '-',
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function list({ store, output }: OperatorContext, json: boolean): Promise<number> {
  const users = await store.listUsers();
  if (json) output.out(JSON.stringify(users, null, 2));
  else if (users.length === 0) output.out('No users.');
  else output.out(table(users));
  return 0;
}

async function show({ store, output }: OperatorContext, userId: string): Promise<number> {
  const user = await store.getUser(userId);
  if (!user) {
    output.err(`No user "${userId}".`);
    return 1;
  }
  output.out(JSON.stringify(user, null, 2));
  return 0;
}

async function importUsers(
  { store, output, now }: OperatorContext,
  file: string,
  replace: boolean,
): Promise<number> {
  let users: UserRecord[];
  try {
    users = readUserFile(await readFile(file, 'utf8'), file, now());
  } catch (error) {
    if (error instanceof ImportError) output.err(`Nothing imported. ${error.message}`);
    else output.err(`Nothing imported: cannot read ${file}: ${(error as Error).message}`);
    return 1;
  }

  const skipped: string[] = [];
  let created = 0;
  let replaced = 0;
  for (const user of users) {
    if (await store.createUser(user)) {
      created += 1;
    } else if (replace) {
      await store.putUser(user);
      replaced += 1;
    } else {
      skipped.push(user.userId);
    }
  }
  output.out(`Imported ${created} new user(s), replaced ${replaced}.`);
  if (skipped.length > 0) {
    output.out(
      `Skipped ${skipped.length} existing user(s) (use --replace to overwrite): ${skipped.join(', ')}`,
    );
  }
  return 0;
}

async function remove(context: OperatorContext, userId: string, local: boolean): Promise<number> {
  const { settings, store, log, output } = context;
  if (!local) {
    if (!settings.nopassServerUrl) {
      output.err(
        'NOPASS_SERVER_URL is not set, so NoPass cannot be asked to delete the user. Set it as ' +
          'the bridge has it, or use --local to delete the user here only.',
      );
      return 1;
    }
    const nopass = createNoPassClient({
      baseUrl: settings.nopassServerUrl,
      credentials: async () => settings.configuredPortal ?? (await store.getPortal()),
      timeoutMs: settings.nopassTimeoutMs,
      log,
    });
    try {
      const session = await nopass.deleteInitialPortal(userId);
      output.out(`NoPass deleted "${userId}" (deletion session ${session}).`);
    } catch (error) {
      if (error instanceof NoPassRefused) {
        output.err(`NoPass refused to delete "${userId}" (it may not know the user id).`);
      } else if (error instanceof BridgeError) {
        output.err(`Nothing deleted: ${error.description} Try again, or use --local.`);
        return 1;
      } else {
        throw error;
      }
    }
  }

  const report = await createUserDeletion({ store, log }).deleteUser(userId, 'operator');
  output.out(
    report.existed
      ? `Deleted "${userId}" here: ${report.grants} grant(s) revoked, ${report.sessions} session(s) ended.`
      : `"${userId}" is not in the directory (any more); revoked ${report.grants} grant(s) left over.`,
  );
  return 0;
}

/** Runs `users …`; returns the exit code. */
export async function runUsersCommand(
  args: string[],
  env: Record<string, string | undefined>,
  output: Output,
): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parse(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.err(`${error.message}\n${USERS_USAGE}`);
    return 2;
  }
  const { action, target = '', flags } = parsed;
  return withStore(env, output, (context) => {
    switch (action) {
      case 'list':
        return list(context, flags.has('--json'));
      case 'show':
        return show(context, target);
      case 'import':
        return importUsers(context, target, flags.has('--replace'));
      default:
        return remove(context, target, flags.has('--local'));
    }
  });
}
