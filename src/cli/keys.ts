/**
 * `nopass-bridge keys generate`: prints a new private signing key set (one RS256 key) as a
 * JWKS, ready for `JWKS_FILE`. Every instance of a deployment reads the same file, so tokens
 * signed by one verify with the keys every other one publishes.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';

export async function generateJwks(): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const key = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'RS256', use: 'sig' };
  return `${JSON.stringify({ keys: [key] }, null, 2)}\n`;
}

/** Runs the `keys` command; returns the process exit code. */
export async function runKeysCommand(args: string[]): Promise<number> {
  if (args[0] !== 'generate' || args.length > 1) {
    process.stderr.write('usage: nopass-bridge keys generate > jwks.json\n');
    return 2;
  }
  process.stdout.write(await generateJwks());
  return 0;
}
