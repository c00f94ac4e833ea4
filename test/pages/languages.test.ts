/**
 * Pages in the person's language, and in the operator's colours: `ui_locales` first, then
 * Accept-Language, then English; every catalogue complete; branding from the settings.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Browser, last } from '../helpers/browser.ts';
import { authorizationRequest, startHarness, type Harness } from '../helpers/harness.ts';

type Catalogue = { [key: string]: string | Catalogue };

function keysOf(catalogue: Catalogue, prefix = ''): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [key, value] of Object.entries(catalogue)) {
    if (typeof value === 'string') keys.set(prefix + key, value);
    else for (const [k, v] of keysOf(value, `${prefix}${key}.`)) keys.set(k, v);
  }
  return keys;
}

const LOCALES = new URL('../../views/locales/', import.meta.url);

describe('message catalogues', () => {
  const files = readdirSync(LOCALES).filter((file) => file.endsWith('.json'));
  const english = keysOf(
    JSON.parse(readFileSync(new URL('en.json', LOCALES), 'utf8')) as Catalogue,
  );

  it('has English and at least two more languages', () => {
    assert.ok(files.includes('en.json'));
    assert.ok(files.length >= 3, files.join(', '));
  });

  for (const file of files) {
    it(`${file} translates every English message, keeping the placeholders`, () => {
      const other = keysOf(JSON.parse(readFileSync(new URL(file, LOCALES), 'utf8')) as Catalogue);
      assert.deepEqual([...other.keys()].sort(), [...english.keys()].sort());
      for (const [key, text] of other) {
        assert.notEqual(text.trim(), '', `${file}: ${key} is empty`);
        const placeholders = (value: string) => (value.match(/\{\{\w+\}\}/g) ?? []).sort();
        assert.deepEqual(placeholders(text), placeholders(english.get(key)!), `${file}: ${key}`);
      }
    });
  }
});

describe('page language', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());

  async function form(extra: Record<string, string>, acceptLanguage?: string): Promise<string> {
    const browser = new Browser();
    const request = await authorizationRequest(h.rp, extra);
    let url: string | undefined = request.url.href;
    let hop;
    for (let i = 0; url && i < 5; i++) {
      hop = await browser.request(url, {
        headers: acceptLanguage ? { 'accept-language': acceptLanguage } : {},
      });
      url = hop.status >= 300 && hop.status < 400 ? hop.location : undefined;
    }
    assert.equal(hop?.status, 200);
    return hop.body;
  }

  it('follows ui_locales from the relying party', async () => {
    const page = await form({ ui_locales: 'de-CH en' }, 'fr');
    assert.match(page, /<html lang="de">/);
    assert.match(page, /Benutzerkennung/);
  });

  it('falls back to the browser language, then to English', async () => {
    assert.match(await form({}, 'fr-FR,fr;q=0.9,en;q=0.5'), /Identifiant/);
    const english = await form({ ui_locales: 'tlh' }, 'ja');
    assert.match(english, /<html lang="en">/);
    assert.match(english, /User id/);
  });

  it('shows error messages in the chosen language', async () => {
    const browser = new Browser();
    const request = await authorizationRequest(h.rp, { ui_locales: 'fr' });
    const page = last(await browser.follow(request.url.href));
    const answer = await browser.post(`${page.url}/login`, { userId: '' });
    assert.equal(answer.status, 400);
    assert.match(answer.body, /Veuillez saisir votre identifiant/);
  });
});

describe('branding', () => {
  let h: Harness;
  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bridge-brand-'));
    const logo = join(dir, 'logo.svg');
    await writeFile(logo, '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    h = await startHarness({
      env: {
        BRAND_NAME: 'Acme <Login>',
        BRAND_COLOR: '#aa3300',
        BRAND_LOGO_FILE: logo,
        SUPPORT_URL: 'https://help.example.com/login',
      },
    });
  });
  after(() => h.stop());

  it('shows the organisation name, colour, logo and support link', async () => {
    const page = await (await fetch(`${h.issuer}/`)).text();
    assert.match(page, /Acme &lt;Login&gt;/, 'the name is escaped text');
    assert.match(page, /href="\/static\/brand.css"/);
    assert.match(page, /src="\/static\/logo"/);
    assert.match(page, /href="https:\/\/help.example.com\/login"/);
    const css = await (await fetch(`${h.issuer}/static/brand.css`)).text();
    assert.match(css, /--accent: #aa3300/);
    const logo = await fetch(`${h.issuer}/static/logo`);
    assert.equal(logo.headers.get('content-type'), 'image/svg+xml');
  });
});
