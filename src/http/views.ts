/**
 * Page rendering: pug templates under views/, compiled once and kept. Every page shares
 * views/layout.pug; the quickstart banner is added there for every page when the bridge runs in
 * quickstart mode. pug escapes every `#{}` and `=` interpolation, which is how text that came
 * from NoPass or from the user is always shown as text.
 */
import { fileURLToPath } from 'node:url';
import { compileFile, type compileTemplate } from 'pug';

export const VIEWS_DIR = fileURLToPath(new URL('../../views/', import.meta.url));

export interface Views {
  render(name: string, locals?: Record<string, unknown>): string;
}

export function createViews(common: Record<string, unknown>): Views {
  const cache = new Map<string, compileTemplate>();
  return {
    render(name, locals = {}) {
      let template = cache.get(name);
      if (!template) {
        template = compileFile(`${VIEWS_DIR}${name}.pug`, { basedir: VIEWS_DIR });
        cache.set(name, template);
      }
      return template({ ...common, ...locals });
    },
  };
}
