/**
 * Editing the clients file takes effect without a restart; an invalid edit keeps the previous
 * clients and the log says exactly what is wrong; SIGHUP reloads on demand.
 */
import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Browser, last } from '../helpers/browser.ts';
import { RP_CLIENT, RP_REDIRECT, startHarness, type Harness } from '../helpers/harness.ts';

const SECOND = {
  ...RP_CLIENT,
  client_id: 'second-app',
  client_secret: 'second-app-secret-long-enough-for-tests',
};

/** Where an authorization request for `clientId` lands: the user id form, or an error page. */
async function authorize(h: Harness, clientId: string): Promise<{ status: number; body: string }> {
  const url = new URL(`${h.issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: RP_REDIRECT,
    response_type: 'code',
    scope: 'openid',
    nonce: 'n-1',
  }).toString();
  return last(await new Browser().follow(url.href));
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within 5 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Replaces the file the way deployment tools do: write beside it, then rename over it. */
async function replaceFile(path: string, text: string): Promise<void> {
  await writeFile(`${path}.new`, text);
  await rename(`${path}.new`, path);
}

describe('clients file reload', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ keepLogs: true });
  });
  after(() => h.stop());

  it('takes a new client into use without a restart', async () => {
    assert.equal((await authorize(h, 'second-app')).status, 400, 'unknown before the edit');
    await replaceFile(h.clientsFile, JSON.stringify([RP_CLIENT, SECOND]));
    await eventually(
      async () => (await authorize(h, 'second-app')).status === 200,
      'the new client reaches the user id form',
    );
  });

  it('keeps the previous clients when an edit is invalid, and says what is wrong', async () => {
    await replaceFile(
      h.clientsFile,
      JSON.stringify([RP_CLIENT, { ...SECOND, redirect_uris: ['not a url'] }]),
    );
    await eventually(
      () =>
        Promise.resolve(
          h.logs.some(
            (line) =>
              /previous clients stay in effect/.test(String(line.msg)) &&
              /client "second-app"/.test(String(line.problem)) &&
              /redirect_uris/.test(String(line.problem)),
          ),
        ),
      'a log line naming the client and the field',
    );
    assert.equal((await authorize(h, 'second-app')).status, 200, 'the previous entry still works');
    assert.equal((await authorize(h, RP_CLIENT.client_id)).status, 200);
  });

  it('reloads on SIGHUP and drops a removed client', async () => {
    await writeFile(h.clientsFile, JSON.stringify([SECOND]));
    process.kill(process.pid, 'SIGHUP');
    await eventually(
      async () => (await authorize(h, RP_CLIENT.client_id)).status === 400,
      'the removed client is refused',
    );
    assert.equal((await authorize(h, 'second-app')).status, 200);
    assert.ok(h.logs.some((line) => line.msg === 'clients reloaded' && line.reason === 'SIGHUP'));
  });
});
