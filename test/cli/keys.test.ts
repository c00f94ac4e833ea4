/**
 * `nopass-bridge keys generate` prints a key set the bridge accepts as JWKS_FILE.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadSigningKeys } from '../../src/oidc/keys.ts';
import { readSettings } from '../../src/settings/index.ts';
import { MemoryStore } from '../../src/state/memory/store.ts';

const run = promisify(execFile);

describe('keys generate', () => {
  it('prints a private RS256 key set that JWKS_FILE accepts', async () => {
    const { stdout } = await run(process.execPath, ['bin/nopass-bridge.js', 'keys', 'generate']);
    const jwks = JSON.parse(stdout) as {
      keys: { kty: string; alg: string; kid: string; d?: string }[];
    };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]?.kty, 'RSA');
    assert.equal(jwks.keys[0]?.alg, 'RS256');
    assert.ok(jwks.keys[0]?.d, 'the private part is there');

    const file = join(await mkdtemp(join(tmpdir(), 'keys-')), 'jwks.json');
    await writeFile(file, stdout);
    const settings = readSettings({ JWKS_FILE: file }, () => 'x');
    const loaded = await loadSigningKeys(settings, new MemoryStore());
    assert.equal(loaded.generated, false);
    assert.equal(loaded.keys[0]?.kid, jwks.keys[0]?.kid);
  });
});
