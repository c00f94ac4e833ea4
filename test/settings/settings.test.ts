/**
 * Start-up configuration: every wrong value stops start-up with a message that names the
 * setting, and production refuses to run with anything unsafe missing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSettings, SettingsError } from '../../src/settings/index.ts';

const generate = (): string => 'abc';

function failure(env: Record<string, string>): SettingsError {
  try {
    readSettings(env, generate);
  } catch (error) {
    assert.ok(error instanceof SettingsError, String(error));
    return error;
  }
  assert.fail('expected a SettingsError');
}

const PRODUCTION = {
  NODE_ENV: 'production',
  ISSUER: 'https://login.example.com',
  NOPASS_SERVER_URL: 'https://nopass.example.com',
  NOPASS_ADMIN_ID: 'admin',
  NOPASS_S_CODE: 'Secret-Code-1',
  COOKIE_KEYS: 'k'.repeat(32),
  CLIENTS_FILE: '/etc/bridge/clients.json',
  JWKS_FILE: '/etc/bridge/jwks.json',
};

describe('settings', () => {
  it('defaults to the quickstart on port 3000', () => {
    const settings = readSettings({}, generate);
    assert.equal(settings.port, 3000);
    assert.equal(settings.issuer, 'http://localhost:3000');
    assert.equal(settings.quickstart, true);
    assert.equal(settings.simulatorPort, 3001);
    assert.equal(settings.clientsFile, 'config/clients.json');
  });

  for (const [env, setting] of [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '0' }, 'PORT'],
    [{ ISSUER: 'login.example.com' }, 'ISSUER'],
    [{ ISSUER: 'https://login.example.com/?x=1' }, 'ISSUER'],
    [{ NOPASS_SERVER_URL: 'ftp://nopass' }, 'NOPASS_SERVER_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ NOPASS_S_CODE: 'short' }, 'NOPASS_S_CODE'],
    [{ NOPASS_S_CODE: 'alllowercase1' }, 'NOPASS_S_CODE'],
    [{ NOPASS_ADMIN_ID: 'a'.repeat(64) }, 'NOPASS_ADMIN_ID'],
    [{ NOPASS_PORTAL_ID: 'p' }, 'NOPASS_AUTH_TOKEN'],
    [{ NOPASS_CALLBACK_PREFIX: '/has space' }, 'NOPASS_CALLBACK_PREFIX'],
    [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY'],
    [{ ISSUER: 'http://localhost:3000/idp' }, 'ISSUER'],
    [{ COOKIE_KEYS: 'short' }, 'COOKIE_KEYS'],
    [{ NOPASS_SERVER_URL: 'http://nopass.example.com' }, 'NOPASS_ADMIN_ID'],
    [{ BRAND_COLOR: 'blue' }, 'BRAND_COLOR'],
  ] as const) {
    it(`names ${setting} when it is ${JSON.stringify(Object.values(env)[0])}`, () => {
      assert.equal(failure(env).setting, setting);
    });
  }

  it('starts in production when everything unsafe is set', () => {
    const settings = readSettings(PRODUCTION, generate);
    assert.equal(settings.production, true);
    assert.equal(settings.quickstart, false);
  });

  for (const missing of [
    'NOPASS_SERVER_URL',
    'ISSUER',
    'COOKIE_KEYS',
    'JWKS_FILE',
    'CLIENTS_FILE',
    'NOPASS_S_CODE',
  ] as const) {
    it(`refuses production without ${missing}`, () => {
      const env: Record<string, string> = { ...PRODUCTION };
      delete env[missing];
      const error = failure(env);
      assert.equal(error.setting, missing);
      assert.match(error.message, /is required/);
    });
  }

  it('listens on every interface unless HOST names an address', () => {
    assert.equal(readSettings({}, generate).host, undefined);
    assert.equal(readSettings({ HOST: '127.0.0.1' }, generate).host, '127.0.0.1');
    assert.equal(readSettings({ HOST: '::1' }, generate).host, '::1');
    assert.equal(readSettings({ HOST: 'localhost' }, generate).host, 'localhost');
    assert.equal(failure({ HOST: 'bad host!' }).setting, 'HOST');
  });

  it('names every missing production setting at once', () => {
    const error = failure({ NODE_ENV: 'production' });
    assert.equal(error.setting, 'NOPASS_SERVER_URL');
    assert.match(error.message, /and ISSUER, COOKIE_KEYS, JWKS_FILE, CLIENTS_FILE/);
  });

  it('refuses production with a plain-http issuer or short cookie keys', () => {
    assert.equal(failure({ ...PRODUCTION, ISSUER: 'http://login.example.com' }).setting, 'ISSUER');
    assert.equal(failure({ ...PRODUCTION, COOKIE_KEYS: 'short' }).setting, 'COOKIE_KEYS');
  });

  it('accepts an existing portal registration instead of registration credentials', () => {
    const env: Record<string, string> = {
      ...PRODUCTION,
      NOPASS_PORTAL_ID: 'portal-1',
      NOPASS_AUTH_TOKEN: 'token-1',
    };
    delete env.NOPASS_ADMIN_ID;
    delete env.NOPASS_S_CODE;
    const settings = readSettings(env, generate);
    assert.deepEqual(settings.configuredPortal, { portalId: 'portal-1', authToken: 'token-1' });
  });

  it('normalises the callback prefix', () => {
    assert.equal(
      readSettings({ NOPASS_CALLBACK_PREFIX: 'hooks/3f9c/' }, generate).callbackPrefix,
      '/hooks/3f9c',
    );
  });
});
