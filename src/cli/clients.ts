/**
 * `nopass-bridge clients check <file>`: validates a clients file exactly as the bridge will at
 * start-up or on reload, so a bad entry is caught before it is deployed. It needs no store, no
 * NoPass server and no network.
 */
import { exportJWK, generateKeyPair } from 'jose';
import { createViews } from '../http/views.ts';
import { ClientRegistry } from '../oidc/client-registry.ts';
import { checkClients, readClientsFile } from '../oidc/clients.ts';
import { createProvider } from '../oidc/provider.ts';
import { SettingsError } from '../settings/index.ts';
import { MemoryStore } from '../state/memory/store.ts';

export interface CheckResult {
  ok: boolean;
  message: string;
}

export async function checkClientsFile(path: string): Promise<CheckResult> {
  try {
    const clients = await readClientsFile(path);
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const provider = createProvider({
      issuer: 'http://localhost',
      store: new MemoryStore(),
      clients: new ClientRegistry([]),
      signingKeys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig' }],
      cookieKeys: ['clients-check-only-never-used-for-cookies'],
      trustProxy: false,
      views: createViews({}),
    });
    await checkClients(provider, clients, path);
    const ids = clients.map((client) => client.client_id).join(', ');
    return { ok: true, message: `${path}: ${clients.length} client(s) valid: ${ids}` };
  } catch (error) {
    if (error instanceof SettingsError) return { ok: false, message: error.message };
    throw error;
  }
}

/** Runs the `clients` command; returns the process exit code. */
export async function runClientsCommand(args: string[]): Promise<number> {
  const [action, file] = args;
  if (action !== 'check' || !file) {
    process.stderr.write('usage: nopass-bridge clients check <clients.json>\n');
    return 2;
  }
  const result = await checkClientsFile(file);
  (result.ok ? process.stdout : process.stderr).write(`${result.message}\n`);
  return result.ok ? 0 : 1;
}
