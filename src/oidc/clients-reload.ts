/**
 * Reloading the clients file while the bridge runs: on a change to the file (watched through
 * its folder, because editors and configuration tools replace files rather than write them in
 * place) or on SIGHUP. A file that fails to read or validate leaves the previous clients in
 * place and the log says exactly what is wrong.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { ClientMetadata, Provider } from 'oidc-provider';
import type { Logger } from '../log.ts';
import type { ClientRegistry } from './client-registry.ts';
import { checkClients, readClientsFile } from './clients.ts';

export interface ClientsReloader {
  /** Reads, checks and applies the file now; resolves to whether it was applied. */
  reload(reason: string): Promise<boolean>;
  close(): void;
}

export interface ReloadDeps {
  file: string;
  registry: ClientRegistry;
  provider: Provider;
  log: Logger;
  /** Clients that are not in the file (the quickstart's demo client). */
  extra: ClientMetadata[];
  /** Quiet period after a change before the file is read, so a write in pieces is read whole. */
  settleMs?: number;
}

export function watchClientsFile(deps: ReloadDeps): ClientsReloader {
  const path = resolve(deps.file);
  const settleMs = deps.settleMs ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve(true);

  const reload = (reason: string): Promise<boolean> => {
    // One reload at a time, in order: the last change always wins.
    running = running.then(async () => {
      try {
        const clients = await readClientsFile(deps.file);
        await checkClients(deps.provider, clients, deps.file);
        deps.registry.replace([...clients, ...deps.extra]);
        deps.log.info({ reason, clients: clients.length }, 'clients reloaded');
        return true;
      } catch (error) {
        deps.log.warn(
          { reason, problem: (error as Error).message },
          'clients file not applied; the previous clients stay in effect',
        );
        return false;
      }
    });
    return running;
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, name) => {
      if (name !== null && name !== basename(path)) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload('file changed'), settleMs);
      timer.unref();
    });
    watcher.unref();
  } catch (error) {
    deps.log.warn(
      { problem: (error as Error).message },
      'cannot watch the clients file; send SIGHUP to reload it',
    );
  }

  const onHangup = (): void => void reload('SIGHUP');
  process.on('SIGHUP', onHangup);

  return {
    reload,
    close() {
      clearTimeout(timer);
      watcher?.close();
      process.off('SIGHUP', onHangup);
    },
  };
}
