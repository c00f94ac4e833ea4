/**
 * The relying parties: a JSON array of client metadata with the standard registration field
 * names, read from `CLIENTS_FILE` and checked with oidc-provider's own validation before the
 * bridge accepts a request, so a bad entry stops start-up with the client and field named.
 */
import { readFile } from 'node:fs/promises';
import type { ClientMetadata, Provider } from 'oidc-provider';
import { SettingsError } from '../settings/index.ts';

/**
 * The client the bridge registers for its own account page (account/client.ts). It is not in
 * the clients file, and a file entry with the same id is refused rather than silently replaced.
 */
export const ACCOUNT_CLIENT_ID = 'nopass-bridge-account';

export async function readClientsFile(path: string): Promise<ClientMetadata[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SettingsError('CLIENTS_FILE', `cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SettingsError(
      'CLIENTS_FILE',
      `${path} is not valid JSON: ${(error as Error).message}`,
    );
  }
  if (!Array.isArray(parsed)) {
    throw new SettingsError('CLIENTS_FILE', `${path} must hold a JSON array of client metadata`);
  }
  const seen = new Set<string>();
  parsed.forEach((entry: unknown, index) => {
    const where = `${path}, entry ${index + 1}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new SettingsError('CLIENTS_FILE', `${where}: expected an object`);
    }
    const id = (entry as { client_id?: unknown }).client_id;
    if (typeof id !== 'string' || id === '') {
      throw new SettingsError('CLIENTS_FILE', `${where}: client_id must be a non-empty string`);
    }
    if (id === ACCOUNT_CLIENT_ID) {
      throw new SettingsError(
        'CLIENTS_FILE',
        `${where}: client_id "${id}" is reserved for the bridge's own account page`,
      );
    }
    if (seen.has(id)) {
      throw new SettingsError('CLIENTS_FILE', `${where}: client_id "${id}" appears twice`);
    }
    seen.add(id);
  });
  return parsed as ClientMetadata[];
}

/**
 * Runs every client through the provider's own metadata validation. oidc-provider names the
 * offending field in its error description (for example "redirect_uris must contain members").
 */
export async function checkClients(
  provider: Provider,
  clients: ClientMetadata[],
  source: string,
): Promise<void> {
  for (const metadata of clients) {
    try {
      await provider.Client.validate(metadata);
    } catch (error) {
      const description =
        (error as { error_description?: string }).error_description ?? (error as Error).message;
      throw new SettingsError(
        'CLIENTS_FILE',
        `${source}: client "${metadata.client_id}": ${description}`,
      );
    }
  }
}
