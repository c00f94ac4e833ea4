/**
 * The in-process store and bus against the shared contract. One process has one state, so
 * every handle is the same store and bus.
 */
import { MemoryBus } from '../../src/state/memory/bus.ts';
import { MemoryStore } from '../../src/state/memory/store.ts';
import { runConformance } from './conformance.ts';

runConformance('memory', () => {
  const handle = { store: new MemoryStore(), bus: new MemoryBus() };
  return Promise.resolve({
    open: () => Promise.resolve(handle),
    async close() {
      await handle.bus.close();
      await handle.store.close();
    },
  });
});
