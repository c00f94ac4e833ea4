/**
 * What stops start-up, and what an operator's own keys change: a broken clients file names the
 * client and the field; a JWKS file's key is the one that signs; a quickstart that could not
 * hear its own simulator says which setting is wrong.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { createBridge } from '../../src/app.ts';
import { createLogger } from '../../src/log.ts';
import { readSettings, SettingsError } from '../../src/settings/index.ts';
import { freePort } from '../helpers/processes.ts';

const dir = await mkdtemp(join(tmpdir(), 'bridge-startup-'));
const log = createLogger('silent');

async function bridgeWith(files: Record<string, string>, env: Record<string, string> = {}) {
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const settings = readSettings(
    { CLIENTS_FILE: join(dir, 'clients.json'), LOG_LEVEL: 'silent', ...env },
    () => 'x',
  );
  return createBridge({ settings, log, nopassServerUrl: 'http://127.0.0.1:9' });
}

async function startupError(clients: string): Promise<string> {
  try {
    const bridge = await bridgeWith({ 'clients.json': clients });
    await bridge.close();
  } catch (error) {
    assert.ok(error instanceof SettingsError, String(error));
    assert.equal(error.setting, 'CLIENTS_FILE');
    return error.message;
  }
  return assert.fail('start-up should have failed');
}

const good = {
  client_id: 'app',
  client_secret: 'a-secret-long-enough-for-the-test',
  redirect_uris: ['https://app.example.com/cb'],
};

describe('start-up checks', () => {
  it('names the client and the field of a bad clients file entry', async () => {
    const message = await startupError(
      JSON.stringify([good, { ...good, client_id: 'broken', redirect_uris: ['not a url'] }]),
    );
    assert.match(message, /client "broken"/);
    assert.match(message, /redirect_uris/);
  });

  it('names the entry without a client_id, a duplicate, bad JSON and a non-array', async () => {
    assert.match(
      await startupError(JSON.stringify([good, { redirect_uris: [] }])),
      /entry 2: client_id/,
    );
    assert.match(await startupError(JSON.stringify([good, good])), /"app" appears twice/);
    assert.match(await startupError('[{"client_id": '), /not valid JSON/);
    assert.match(await startupError('{"client_id": "app"}'), /JSON array/);
  });

  it('signs with the RSA key from JWKS_FILE', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(jwk);
    const bridge = await bridgeWith(
      {
        'clients.json': JSON.stringify([good]),
        'jwks.json': JSON.stringify({ keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] }),
      },
      { JWKS_FILE: join(dir, 'jwks.json') },
    );
    assert.equal(bridge.generatedKeys, false);
    const { url, server } = await bridge.listen(0, '127.0.0.1');
    try {
      const jwks = (await (await fetch(`${url}/jwks`)).json()) as { keys: { kid: string }[] };
      assert.deepEqual(
        jwks.keys.map((key) => key.kid),
        [kid],
      );
    } finally {
      server.closeAllConnections();
      await bridge.close();
    }
  });

  it('refuses a JWKS_FILE without a private RSA key', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    await assert.rejects(
      bridgeWith(
        {
          'clients.json': JSON.stringify([good]),
          'jwks.json': JSON.stringify({ keys: [await exportJWK(privateKey)] }),
        },
        { JWKS_FILE: join(dir, 'jwks.json') },
      ),
      (error: unknown) => error instanceof SettingsError && error.setting === 'JWKS_FILE',
    );
  });

  it('stops a quickstart whose callback allow-list shuts out the embedded simulator', async () => {
    const port = String(await freePort());
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['src/main.ts', 'start'],
        {
          env: { ...process.env, PORT: port, NOPASS_CALLBACK_ALLOW: '10.0.0.0/8', NODE_ENV: '' },
          timeout: 20_000,
        },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }),
      );
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Configuration error: NOPASS_CALLBACK_ALLOW: .*127\.0\.0\.1/m);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  });
});
