/**
 * The REGISTRATION_* settings: their defaults, and a wrong value stopping start-up with a
 * message that names the setting.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSettings, SettingsError } from '../../src/settings/index.ts';

const read = (env: Record<string, string>) => readSettings(env, () => 'x').registration;

describe('registration settings', () => {
  it('offers registration with every field, none required, 120 s to finish', () => {
    const settings = read({});
    assert.equal(settings.enabled, true);
    assert.deepEqual(settings.fields, ['given_name', 'family_name', 'email', 'phone_number']);
    assert.deepEqual(settings.required, []);
    assert.deepEqual(settings.emailDomains, []);
    assert.equal(settings.userIdMinLength, 3);
    assert.equal(settings.ttlMs, 120_000);
    assert.ok(settings.userIdPattern.test('ada.lovelace@home'));
    assert.ok(!settings.userIdPattern.test('-ada'));
  });

  it('reads fields, required fields, domains, pattern and lifetime', () => {
    const settings = read({
      REGISTRATION_ENABLED: 'off',
      REGISTRATION_FIELDS: 'Email, given_name',
      REGISTRATION_REQUIRED: 'given_name',
      REGISTRATION_EMAIL_DOMAINS: 'Example.com, *.example.org',
      REGISTRATION_USER_ID_PATTERN: '^[a-z]+$',
      REGISTRATION_USER_ID_MIN_LENGTH: '5',
      REGISTRATION_TTL_MS: '300000',
    });
    assert.equal(settings.enabled, false);
    assert.deepEqual(settings.fields, ['email', 'given_name']);
    assert.deepEqual(settings.required, ['given_name', 'email'], 'domains make e-mail required');
    assert.deepEqual(settings.emailDomains, ['example.com', '*.example.org']);
    assert.ok(!settings.userIdPattern.test('Ada'));
    assert.equal(settings.userIdMinLength, 5);
    assert.equal(settings.ttlMs, 300_000);
    assert.deepEqual(read({ REGISTRATION_FIELDS: 'none' }).fields, []);
  });

  const wrong: [Record<string, string>, string, RegExp][] = [
    [{ REGISTRATION_ENABLED: 'maybe' }, 'REGISTRATION_ENABLED', /true or false/],
    [{ REGISTRATION_FIELDS: 'email,nickname' }, 'REGISTRATION_FIELDS', /"nickname" is not one of/],
    [
      { REGISTRATION_FIELDS: 'email', REGISTRATION_REQUIRED: 'phone_number' },
      'REGISTRATION_REQUIRED',
      /not asked/,
    ],
    [
      { REGISTRATION_FIELDS: 'given_name', REGISTRATION_EMAIL_DOMAINS: 'example.com' },
      'REGISTRATION_FIELDS',
      /must include email/,
    ],
    [{ REGISTRATION_EMAIL_DOMAINS: 'not a domain' }, 'REGISTRATION_EMAIL_DOMAINS', /not a domain/],
    [{ REGISTRATION_USER_ID_PATTERN: '([' }, 'REGISTRATION_USER_ID_PATTERN', /regular expression/],
    [{ REGISTRATION_USER_ID_MIN_LENGTH: '40' }, 'REGISTRATION_USER_ID_MIN_LENGTH', /1 to 36/],
    [{ REGISTRATION_TTL_MS: '10' }, 'REGISTRATION_TTL_MS', /1000 to 3600000/],
  ];
  for (const [env, setting, message] of wrong) {
    it(`stops at a wrong ${setting} (${JSON.stringify(env)})`, () => {
      assert.throws(
        () => read(env),
        (error: unknown) =>
          error instanceof SettingsError &&
          error.setting === setting &&
          message.test(error.message),
      );
    });
  }
});
