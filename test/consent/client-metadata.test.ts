/**
 * The bridge's own client metadata, `first_party` and `resource_server`: true or false only,
 * and a wrong value stops start-up naming the client and the field.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createBridge } from '../../src/app.ts';
import { createLogger } from '../../src/log.ts';
import { readSettings, SettingsError } from '../../src/settings/index.ts';

const app = {
  client_id: 'app',
  client_secret: 'app-secret-that-is-long-enough-for-tests',
  redirect_uris: ['https://app.example.com/callback'],
};

async function start(client: Record<string, unknown>): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'bridge-metadata-'));
  await writeFile(join(dir, 'clients.json'), JSON.stringify([client]));
  const settings = readSettings(
    { CLIENTS_FILE: join(dir, 'clients.json'), LOG_LEVEL: 'silent' },
    () => 'x',
  );
  try {
    const bridge = await createBridge({
      settings,
      log: createLogger('silent'),
      nopassServerUrl: 'http://127.0.0.1:9',
    });
    await bridge.close();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof SettingsError, String(error));
    return error.message;
  }
}

describe('client metadata of the bridge', () => {
  it('accepts first_party and resource_server as true or false', async () => {
    assert.equal(await start({ ...app, first_party: true, resource_server: false }), undefined);
  });

  for (const field of ['first_party', 'resource_server']) {
    it(`stops start-up on a ${field} that is not a boolean`, async () => {
      const message = await start({ ...app, [field]: 'yes' });
      assert.match(message ?? '', new RegExp(`client "app": ${field} must be true or false`));
    });
  }
});
