/**
 * Page languages. Message catalogues live in views/locales/<language>.json (English is the
 * reference; every catalogue has the same keys, which a test checks). A page's language is the
 * first supported one in the relying party's `ui_locales`, else the best match of the
 * browser's Accept-Language, else English.
 */
import { readdirSync, readFileSync } from 'node:fs';
import i18next, { type TFunction } from 'i18next';
import { VIEWS_DIR } from './paths.ts';

export const DEFAULT_LANGUAGE = 'en';

export interface Translations {
  languages: string[];
  t(language: string): TFunction;
  /** Picks the language for a request. */
  choose(uiLocales: unknown, acceptsLanguages: (languages: string[]) => string | false): string;
}

function loadCatalogues(): Record<string, { translation: Record<string, unknown> }> {
  const resources: Record<string, { translation: Record<string, unknown> }> = {};
  for (const file of readdirSync(`${VIEWS_DIR}locales`)) {
    if (!file.endsWith('.json')) continue;
    const text = readFileSync(`${VIEWS_DIR}locales/${file}`, 'utf8');
    resources[file.slice(0, -5)] = { translation: JSON.parse(text) as Record<string, unknown> };
  }
  return resources;
}

export function createTranslations(): Translations {
  const resources = loadCatalogues();
  const languages = Object.keys(resources).sort((a, b) =>
    a === DEFAULT_LANGUAGE ? -1 : b === DEFAULT_LANGUAGE ? 1 : a.localeCompare(b),
  );
  const instance = i18next.createInstance();
  void instance.init({
    resources,
    lng: DEFAULT_LANGUAGE,
    fallbackLng: DEFAULT_LANGUAGE,
    initAsync: false,
    // pug escapes every interpolation itself; escaping here too would double it.
    interpolation: { escapeValue: false },
  });
  const fixed = new Map(languages.map((language) => [language, instance.getFixedT(language)]));

  return {
    languages,
    t: (language) => fixed.get(language) ?? instance.getFixedT(DEFAULT_LANGUAGE),
    choose(uiLocales, acceptsLanguages) {
      if (typeof uiLocales === 'string') {
        for (const tag of uiLocales.split(' ')) {
          const base = tag.trim().toLowerCase().split('-')[0];
          if (base && fixed.has(base)) return base;
        }
      }
      return acceptsLanguages(languages) || DEFAULT_LANGUAGE;
    },
  };
}
