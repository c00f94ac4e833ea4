// The four server operations as a portal calls them: the envelope, its content type, the
// picture, the bearer and portalId checks, content types, and each operation's effect.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decode } from 'fast-png';
import { control, field, operation, setup, startAuth, type Setup } from './helpers.ts';

const REQUEST_AUTHORIZATION = 'UserAuthentication/RequestAuthorization';

describe('server operations', () => {
  let s: Setup;

  before(async () => {
    s = await setup({ nextChangeMs: 60_000, users: ['alice'] });
  });

  after(() => s.close());

  describe('RequestAuthorization', () => {
    it('answers the envelope as text/plain with an authId and an 8-bit palette PNG', async () => {
      const reply = await operation(s, REQUEST_AUTHORIZATION, {
        portalId: s.portalId,
        userId: 'demo',
      });
      assert.equal(reply.status, 200);
      assert.match(reply.contentType, /^text\/plain/);
      const envelope = reply.json();
      assert.deepEqual(envelope.errors, []);
      const result = envelope.result as Record<string, unknown>;
      assert.match(String(result.authId), /^[A-Za-z0-9_-]{16,}$/);
      assert.equal(result.nextChange, 60_000);
      assert.equal(result.loginUrl, null);

      const png = decode(Buffer.from(String(result.image), 'base64'));
      assert.equal(png.depth, 8);
      assert.equal(png.channels, 1, 'one channel of palette indices');
      assert.ok(png.palette && png.palette.length > 4, 'a palette of several colours');
      assert.ok(png.width >= 100 && png.height >= 100);
    });

    it('gives each authentication its own picture', async () => {
      const first = await startAuth(s);
      const second = await startAuth(s);
      assert.notEqual(first.authId, second.authId);
      assert.notEqual(first.image, second.image);
    });

    it('reads request properties in any casing and accepts application/json', async () => {
      const reply = await operation(
        s,
        REQUEST_AUTHORIZATION,
        { PortalId: s.portalId, USERID: 'alice', Social: 0 },
        { contentType: 'application/json; charset=utf-8' },
      );
      assert.equal(reply.status, 200, reply.text);
    });

    it('answers 400 UserNotFound in the envelope for an unknown user', async () => {
      const reply = await operation(s, REQUEST_AUTHORIZATION, {
        portalId: s.portalId,
        userId: 'nobody',
      });
      assert.equal(reply.status, 400);
      assert.match(reply.contentType, /^text\/plain/);
      const envelope = reply.json();
      assert.equal(envelope.errors[0]?.code, 'UserNotFound');
      assert.equal(typeof envelope.errors[0]?.message, 'string');
      assert.equal(envelope.result, null);
    });

    it('answers 400 when userId is missing or too long', async () => {
      for (const body of [
        { portalId: s.portalId },
        { portalId: s.portalId, userId: 'u'.repeat(37) },
      ]) {
        const reply = await operation(s, REQUEST_AUTHORIZATION, body);
        assert.equal(reply.status, 400);
        assert.equal(reply.json().errors[0]?.code, 'InvalidRequest');
      }
    });
  });

  describe('checks on every operation', () => {
    const body = (): Record<string, unknown> => ({ portalId: s.portalId, userId: 'demo' });

    it('answers 401 in the envelope without a bearer token', async () => {
      const reply = await operation(s, REQUEST_AUTHORIZATION, body(), { token: null });
      assert.equal(reply.status, 401);
      assert.equal(reply.json().errors[0]?.code, 'Unauthorized');
    });

    it('answers 401 for a token no portal holds', async () => {
      const reply = await operation(s, REQUEST_AUTHORIZATION, body(), { token: 'not-a-token' });
      assert.equal(reply.status, 401);
    });

    it("answers 401 when portalId is not the token's portal", async () => {
      for (const portalId of ['another-portal', undefined]) {
        const reply = await operation(s, REQUEST_AUTHORIZATION, { portalId, userId: 'demo' });
        assert.equal(reply.status, 401);
        assert.equal(reply.json().errors[0]?.code, 'Unauthorized');
      }
    });

    it('answers 415 for a body that is not JSON by content type', async () => {
      const reply = await operation(s, REQUEST_AUTHORIZATION, body(), {
        contentType: 'application/x-www-form-urlencoded',
        raw: 'portalId=x&userId=demo',
      });
      assert.equal(reply.status, 415);
      assert.equal(reply.json().errors[0]?.code, 'UnsupportedMediaType');
    });

    it('answers 400 for malformed JSON or a body that is not an object', async () => {
      for (const raw of ['{"portalId": ', '[1, 2]', '"text"']) {
        const reply = await operation(s, REQUEST_AUTHORIZATION, undefined, { raw });
        assert.equal(reply.status, 400, raw);
        assert.equal(reply.json().errors.length, 1);
      }
    });

    it('answers unknown operations with a JSON 404', async () => {
      const reply = await operation(s, 'UserAuthentication/Nope', body());
      assert.equal(reply.status, 404);
      assert.equal((JSON.parse(reply.text) as { error: string }).error, 'not_found');
    });
  });

  describe('PreRegisterUser', () => {
    it('answers an otp and a registration link to a simulator page', async () => {
      const reply = await operation(s, 'UserRegistration/PreRegisterUser', {
        portalId: s.portalId,
        userId: 'newcomer',
        clientIP: '203.0.113.7',
        redirectUrl: 'http://127.0.0.1:3000/registered?x=1',
        socialNetwork: '',
        Data: { givenName: 'New', surName: 'Comer', phoneNumber: '', email: 'n@example.test' },
      });
      assert.equal(reply.status, 200, reply.text);
      const result = reply.json().result as { otp: string; registerLink: string };
      assert.ok(result.otp.length >= 16);
      assert.equal(result.registerLink, `${s.url}/register/${result.otp}`);

      const page = await fetch(result.registerLink);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /NoPass app would now be installed/);
      assert.match(html, /value="n@example.test"/, 'the details the portal sent, to confirm');
      assert.match(html, /newcomer/);
      assert.match(html, /NoPass simulator/);

      const unknown = await fetch(`${s.url}/register/not-an-otp`);
      assert.equal(unknown.status, 404);
    });

    it('answers 400 for a missing clientIP or a relative redirectUrl', async () => {
      const base = {
        portalId: s.portalId,
        userId: 'newcomer',
        clientIP: '203.0.113.7',
        redirectUrl: 'https://site.example/back',
      };
      for (const body of [
        { ...base, clientIP: undefined },
        { ...base, clientIP: 'not an ip' },
        { ...base, redirectUrl: '/back' },
        { ...base, userId: '' },
      ]) {
        const reply = await operation(s, 'UserRegistration/PreRegisterUser', body);
        assert.equal(reply.status, 400, JSON.stringify(body));
      }
    });
  });

  describe('DeleteInitialPortal', () => {
    it("calls the portal's DeleteUser before answering, then forgets the user", async () => {
      await control(s.url, 'POST', '/users', { portalId: s.portalId, userId: 'leaving' });
      s.portal.behaviour.deleteDelayMs = 150;
      const started = Date.now();
      const reply = await operation(s, 'UserDelete/DeleteInitialPortal', {
        portalId: s.portalId,
        userId: 'leaving',
      });
      const answered = Date.now();
      s.portal.behaviour.deleteDelayMs = 0;

      assert.equal(reply.status, 200, reply.text);
      assert.equal(typeof reply.json().result, 'string');
      const deleted = await s.portal.waitFor(
        'DeleteUser',
        (c) => field(c.body, 'userId') === 'leaving',
      );
      assert.equal(field(deleted.body, 'portalId'), s.portalId);
      assert.ok(answered - started >= 150, 'the answer waited for the portal');

      const again = await operation(s, REQUEST_AUTHORIZATION, {
        portalId: s.portalId,
        userId: 'leaving',
      });
      assert.equal(again.json().errors[0]?.code, 'UserNotFound');
    });

    it('still deletes when the portal refuses DeleteUser, and records its status', async () => {
      await control(s.url, 'POST', '/users', { portalId: s.portalId, userId: 'stubborn' });
      s.portal.behaviour.status = { DeleteUser: 500 };
      const reply = await operation(s, 'UserDelete/DeleteInitialPortal', {
        portalId: s.portalId,
        userId: 'stubborn',
      });
      s.portal.behaviour.status = {};
      assert.equal(reply.status, 200);
      const calls = await control<{ direction: string; op: string; status: number }[]>(
        s.url,
        'GET',
        '/calls',
      );
      const sent = calls.body.filter((c) => c.direction === 'sent' && c.op === 'DeleteUser');
      assert.equal(sent.at(-1)?.status, 500);
    });
  });

  describe('CloseAuthSession', () => {
    it('answers a string, stops the authentication and records the call', async () => {
      const { authId } = await startAuth(s);
      const reply = await operation(s, 'UserAuthentication/CloseAuthSession', {
        portalId: s.portalId,
        authId,
      });
      assert.equal(reply.status, 200);
      assert.equal(typeof reply.json().result, 'string');

      const calls = await control<{ direction: string; op: string; body: unknown }[]>(
        s.url,
        'GET',
        '/calls',
      );
      const received = calls.body.filter((c) => c.op === 'CloseAuthSession');
      assert.deepEqual(received.at(-1)?.body, { portalId: s.portalId, authId });
      assert.equal(received.at(-1)?.direction, 'received');

      const auths = await control<{ authId: string; status: string; closed: boolean }[]>(
        s.url,
        'GET',
        '/auths?userId=demo',
      );
      const auth = auths.body.find((a) => a.authId === authId);
      assert.equal(auth?.status, 'stopped');
      assert.equal(auth?.closed, true);
    });

    it('answers 400 for an authId this portal never received', async () => {
      const reply = await operation(s, 'UserAuthentication/CloseAuthSession', {
        portalId: s.portalId,
        authId: 'unknown',
      });
      assert.equal(reply.status, 400);
      assert.equal(reply.json().errors[0]?.code, 'AuthNotFound');
    });
  });
});
