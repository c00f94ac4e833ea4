/**
 * Page rendering: pug templates under views/, compiled once and kept. Every page shares
 * views/layout.pug and is rendered in the language chosen for the request (i18n.ts), with the
 * branding from the settings. pug escapes every `#{}` and `=` interpolation, which is how text
 * that came from NoPass or from the user is always shown as text.
 */
import type { Context } from 'koa';
import { compileFile, type compileTemplate } from 'pug';
import { createTranslations } from './i18n.ts';
import { VIEWS_DIR } from './paths.ts';

export interface Views {
  /**
   * Renders `name` for this request. `ctx.state.uiLocales` (set from the OIDC request's
   * `ui_locales`) takes precedence over the browser's Accept-Language.
   */
  page(ctx: Context, name: string, locals?: Record<string, unknown>): string;
  /** Every language a page can be shown in. */
  languages: string[];
}

export function createViews(common: Record<string, unknown>): Views {
  const cache = new Map<string, compileTemplate>();
  const translations = createTranslations();
  return {
    languages: translations.languages,
    page(ctx, name, locals = {}) {
      let template = cache.get(name);
      if (!template) {
        template = compileFile(`${VIEWS_DIR}${name}.pug`, { basedir: VIEWS_DIR });
        cache.set(name, template);
      }
      const lang = translations.choose(
        (ctx.state as { uiLocales?: unknown } | undefined)?.uiLocales,
        (languages) => ctx.acceptsLanguages(languages),
      );
      // Locals a middleware prepared for every page of this request (the CSRF token, csrf.ts).
      const prepared = (ctx.state as { pageLocals?: Record<string, unknown> } | undefined)
        ?.pageLocals;
      return template({ ...common, ...prepared, ...locals, lang, t: translations.t(lang) });
    },
  };
}
