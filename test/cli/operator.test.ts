/**
 * The operator's commands, run as their own processes (`node src/main.ts users …`) against the
 * store of a running bridge on a redis-server of the test's own, with the simulator as NoPass:
 * what they print, what they change, and that they refuse to run on an in-memory store.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command line with exactly `env` (plus PATH), as an operator's shell would. */
function cli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['src/main.ts', ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('operator commands', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let h: Harness;
  let env: Record<string, string>;
  let dir: string;

  before(async () => {
    redis = await startRedis();
    const shared = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'operator-test:' };
    h = await startHarness({ env: shared });
    // The bridge's own settings, as an operator's shell on its host would have them.
    env = {
      ...shared,
      NOPASS_SERVER_URL: h.simulatorUrl,
      NOPASS_ADMIN_ID: h.settings.adminId,
      NOPASS_S_CODE: h.settings.sCode,
      NOPASS_TIMEOUT_MS: '3000',
    };
    dir = await mkdtemp(join(tmpdir(), 'bridge-cli-'));
  });
  after(async () => {
    await h.stop();
    await redis.close();
  });

  it('refuses to work without REDIS_URL, and says why', async () => {
    const memory = Object.fromEntries(
      Object.entries(env).filter(([name]) => !name.startsWith('REDIS_')),
    );
    const run = await cli(['users', 'list'], memory);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /need the same REDIS_URL/);
    assert.match(run.stderr, /own process memory/);
  });

  it('explains its usage when called wrongly', async () => {
    const run = await cli(['users', 'show'], env);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /usage: nopass-bridge users list/);
    const portal = await cli(['portal', 'open-window', 'soon'], env);
    assert.equal(portal.code, 2);
    assert.match(portal.stderr, /whole number of minutes/);
  });

  it('imports users, checking the whole file first, then lists and shows them', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify([{ userId: 'ok-one' }, { userId: 'bad', profile: { email: 'nope' } }]),
    );
    const refused = await cli(['users', 'import', bad], env);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /Nothing imported\. .*entry 2 \(bad\): profile\.email: invalid_email/,
    );
    assert.equal(await h.bridge.store.getUser('ok-one'), undefined, 'all or nothing');

    const file = join(dir, 'users.json');
    await writeFile(
      file,
      JSON.stringify([
        {
          userId: 'grace',
          profile: { givenName: 'Grace', surName: 'Hopper', email: 'grace@example.com' },
          emailVerified: true,
        },
        { userId: 'alan', profile: { givenName: 'Alan' } },
      ]),
    );
    const imported = await cli(['users', 'import', file], env);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /Imported 2 new user\(s\), replaced 0\./);
    const grace = await h.bridge.store.getUser('grace');
    assert.equal(grace?.profile.email, 'grace@example.com');
    assert.equal(grace?.emailVerified, true, "the file's word, for a value it carries");

    const again = await cli(['users', 'import', file], env);
    assert.match(
      again.stdout,
      /Skipped 2 existing user\(s\) \(use --replace to overwrite\): grace, alan/,
    );

    const list = await cli(['users', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.match(lines[0]!, /^USER ID\s+REGISTERED\s+LAST SIGN-IN\s+E-MAIL$/);
    assert.match(list.stdout, /alan\s+-\s+-\s+-/);
    assert.match(list.stdout, /grace\s+-\s+-\s+grace@example\.com \(verified\)/);
    assert.ok(
      lines.findIndex((l) => l.startsWith('alan')) < lines.findIndex((l) => l.startsWith('grace')),
    );

    const json = await cli(['users', 'list', '--json'], env);
    const listed = JSON.parse(json.stdout) as { userId: string }[];
    assert.deepEqual(
      listed.map((user) => user.userId).filter((id) => ['alan', 'grace'].includes(id)),
      ['alan', 'grace'],
    );

    const shown = await cli(['users', 'show', 'grace'], env);
    assert.equal(shown.code, 0);
    assert.deepEqual(JSON.parse(shown.stdout), grace);
    const missing = await cli(['users', 'show', 'nobody'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No user "nobody"/);
  });

  it('deletes a user through NoPass: DeleteUser reaches the bridge before the answer', async () => {
    await h.bridge.store.createUser({
      userId: 'leaving',
      profile: { email: 'leaving@example.com' },
      emailVerified: false,
      phoneNumberVerified: false,
      createdAt: 1,
    });
    await h.control('/control/users', { userId: 'leaving' });

    const run = await cli(['users', 'delete', 'leaving'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /NoPass deleted "leaving"/);
    // The running bridge handled DeleteUser first, so the command found nothing left.
    assert.match(run.stdout, /"leaving" is not in the directory \(any more\)/);
    assert.equal(await h.bridge.store.getUser('leaving'), undefined);

    const calls = (await (await fetch(`${h.simulatorUrl}/control/calls`)).json()) as {
      op: string;
      status: number | null;
    }[];
    const deleteUser = calls.filter((call) => call.op === 'DeleteUser').at(-1);
    assert.equal(deleteUser?.status, 200, "the bridge answered NoPass's DeleteUser");
    const portals = (await (await fetch(`${h.simulatorUrl}/control/portals`)).json()) as {
      users: string[];
    }[];
    assert.ok(!portals[0]?.users.includes('leaving'), 'NoPass forgot the user too');
  });

  it('deletes here only with --local, and nothing when NoPass cannot be reached', async () => {
    await h.bridge.store.recordSignIn('stranded', Date.now());
    const unreachable = await cli(['users', 'delete', 'stranded'], {
      ...env,
      NOPASS_SERVER_URL: 'http://127.0.0.1:9',
    });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /Nothing deleted/);
    assert.ok(await h.bridge.store.getUser('stranded'), 'kept while NoPass still has it');

    const refused = await cli(['users', 'delete', 'stranded'], env);
    assert.equal(refused.code, 0, refused.stderr);
    assert.match(refused.stderr, /NoPass refused to delete "stranded"/);
    assert.match(refused.stdout, /Deleted "stranded" here/);

    await h.bridge.store.recordSignIn('local-only', Date.now());
    const local = await cli(['users', 'delete', 'local-only', '--local'], env);
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout, /Deleted "local-only" here: 0 grant\(s\) revoked/);
    assert.equal(await h.bridge.store.getUser('local-only'), undefined);
  });

  it('shows the portal without its token, and opens a window for registering again', async () => {
    const portal = await h.bridge.store.getPortal();
    assert.ok(portal);
    const shown = await cli(['portal', 'show'], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`Portal id: ${portal.portalId}`));
    assert.match(shown.stdout, /Re-registration window: closed\./);
    assert.ok(!shown.stdout.includes(portal.authToken), 'never the auth token');
    assert.ok(!shown.stderr.includes(portal.authToken));

    // Without the window, NoPass cannot register the portal again.
    const registration = {
      webUrl: h.issuer,
      adminId: h.settings.adminId,
      sCode: h.settings.sCode,
    };
    await assert.rejects(h.simulator.registerPortal(registration), /ConfirmPreRegistration/);

    const opened = await cli(['portal', 'open-window', '5'], env);
    assert.equal(opened.code, 0, opened.stderr);
    assert.match(opened.stdout, /Re-registration window open until/);
    assert.match((await cli(['portal', 'show'], env)).stdout, /window: open until/);

    const again = await h.simulator.registerPortal(registration);
    assert.notEqual(again.portalId, portal.portalId);
    assert.equal((await h.bridge.store.getPortal())?.portalId, again.portalId, 'replaced');
    assert.match((await cli(['portal', 'show'], env)).stdout, /window: closed/);
  });
});
