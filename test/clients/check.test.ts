/**
 * `nopass-bridge clients check <file>`: an operator validates a clients file before deploying
 * it, with the same checks the bridge applies at start-up and on reload.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function check(text: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'clients-check-'));
  const file = join(dir, 'clients.json');
  await writeFile(file, text);
  try {
    const { stdout, stderr } = await run(process.execPath, [
      'bin/nopass-bridge.js',
      'clients',
      'check',
      file,
    ]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('clients check', () => {
  it('accepts a valid file and lists its clients', async () => {
    const result = await check(
      JSON.stringify([
        {
          client_id: 'web',
          client_secret: 's'.repeat(32),
          redirect_uris: ['https://web.example/cb'],
        },
        {
          client_id: 'spa',
          token_endpoint_auth_method: 'none',
          redirect_uris: ['https://spa.example/cb'],
        },
      ]),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /2 client\(s\) valid: web, spa/);
  });

  it('names the client and the field of a bad entry, and exits non-zero', async () => {
    const result = await check(
      JSON.stringify([
        { client_id: 'web', client_secret: 's'.repeat(32), redirect_uris: ['nope'] },
      ]),
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /client "web": redirect_uris/);
  });

  it('says when the file is not JSON', async () => {
    const result = await check('[{');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /not valid JSON/);
  });
});
