/**
 * The circuit breaker around the NoPass client, against a canned server over real HTTP: it
 * opens on sustained outages only, then fails fast without sending; after the reset time one
 * probe decides whether it closes or opens again; a retried call counts once; it can be turned
 * off. The canned server's request log shows what really went out. Its settings come last.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  NoPassCircuitOpen,
  NoPassCredentialsRejected,
  NoPassRefused,
  NoPassUnavailable,
} from '../../src/http/errors.ts';
import { createMetrics, type Metrics } from '../../src/http/metrics.ts';
import {
  createNoPassCircuit,
  type CircuitState,
  type NoPassCircuit,
} from '../../src/nopass/circuit.ts';
import { createNoPassClient } from '../../src/nopass/client.ts';
import type { NoPassClient } from '../../src/nopass/types.ts';
import {
  readSettings,
  SettingsError,
  type NoPassCircuitSettings,
} from '../../src/settings/index.ts';
import { answer, captureLog, startCannedServer, type CannedServer } from './canned-server.ts';
import { pngBase64 } from './pictures.ts';

const STARTED = { authId: 'auth-0001', image: pngBase64(), nextChange: 30000 };
const OK = answer(200, { errors: [], result: STARTED });
const OUTAGE = answer(500, 'Internal Server Error');
const REFUSED = answer(400, {
  errors: [{ code: 'UserNotFound', message: 'no such user' }],
  result: null,
});
const REJECTED = answer(401, '');

const SETTINGS: NoPassCircuitSettings = {
  enabled: true,
  minCalls: 3,
  failurePercent: 50,
  windowMs: 60_000,
  resetMs: 60_000,
};

let server: CannedServer;
let circuit: NoPassCircuit;
let client: NoPassClient;
let metrics: Metrics;
let logs: ReturnType<typeof captureLog>;

before(async () => {
  server = await startCannedServer();
});
after(() => server.close());

function setUp(settings: Partial<NoPassCircuitSettings> = {}): void {
  logs = captureLog();
  metrics = createMetrics({ defaultMetrics: false });
  circuit = createNoPassCircuit({ settings: { ...SETTINGS, ...settings }, log: logs.log, metrics });
  client = createNoPassClient({
    baseUrl: server.url,
    credentials: () => Promise.resolve({ portalId: 'portal-1', authToken: 'token-1' }),
    timeoutMs: 2000,
    log: logs.log,
    metrics,
    circuit,
  });
}

/** The error `call` fails with; the test fails when it succeeds. */
async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => assert.fail('expected the call to fail'),
    (error: unknown) => error,
  );
}

function signIn(): Promise<unknown> {
  return client.requestAuthorization({ userId: 'alice' });
}

/** Log lines with this message. */
function lines(msg: string): Record<string, unknown>[] {
  return logs.lines().filter((line) => line.msg === msg);
}

const OPENED = 'nopass circuit open: calls fail at once until a probe succeeds';
const HALF_OPEN = 'nopass circuit half-open: the next call probes the server';
const CLOSED = 'nopass circuit closed: the server answers again';

/** Waits (bounded) until the circuit is in `state`; it changes by its own timer. */
async function until(state: CircuitState): Promise<void> {
  for (let tries = 0; tries < 400 && circuit.state() !== state; tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(circuit.state(), state);
}

async function gauge(): Promise<number | undefined> {
  return (await metrics.nopassCircuitState.get()).values[0]?.value;
}

async function counted(outcome: string, operation: string): Promise<number | undefined> {
  const { values } = await metrics.nopassCallSeconds.get();
  return values.find(
    (value) =>
      value.metricName === 'nopass_bridge_nopass_request_duration_seconds_count' &&
      value.labels.outcome === outcome &&
      value.labels.operation === operation,
  )?.value;
}

async function rejected(operation: string): Promise<number | undefined> {
  const { values } = await metrics.nopassCircuitRejected.get();
  return values.find((value) => value.labels.operation === operation)?.value;
}

describe('NoPass circuit', () => {
  beforeEach(() => {
    server.received.length = 0;
    server.reply = OK;
  });
  afterEach(() => circuit.close());

  it('opens after sustained outages, then fails fast for every operation, unsent', async () => {
    setUp();
    assert.equal(circuit.state(), 'closed');
    assert.equal(await gauge(), 0);
    server.reply = OUTAGE;

    for (let call = 0; call < 3; call += 1) {
      const error = await failure(signIn());
      assert.ok(error instanceof NoPassUnavailable);
      assert.ok(!(error instanceof NoPassCircuitOpen), 'sent while the circuit was closed');
    }
    assert.equal(circuit.state(), 'open');
    assert.equal(server.received.length, 3);

    const held = await failure(signIn());
    assert.ok(held instanceof NoPassCircuitOpen, `got ${String(held)}`);
    // The same error code, so people see the same "try again" page as for any outage.
    assert.ok(held instanceof NoPassUnavailable);
    assert.equal(held.code, 'nopass_unavailable');
    assert.equal(held.status, 503);
    assert.ok(
      (await failure(client.closeAuthSession('auth-0001'))) instanceof NoPassCircuitOpen,
      'every operation shares the circuit',
    );
    assert.equal(server.received.length, 3, 'nothing sent while open');

    assert.equal(lines(OPENED).length, 1, 'the opening is logged once, not per call');
    assert.equal(lines(OPENED)[0]?.level, 'warn');
    assert.equal(lines('nopass call failed').length, 3, 'held calls log no warning each');
    assert.equal(await gauge(), 2);
    assert.equal(await counted('circuit_open', 'RequestAuthorization'), 1);
    assert.equal(await counted('circuit_open', 'CloseAuthSession'), 1);
    assert.equal(await counted('nopass_unavailable', 'RequestAuthorization'), 3);
    assert.equal(await rejected('RequestAuthorization'), 1);
    assert.equal(await rejected('CloseAuthSession'), 1);
  });

  it('stays closed for refusals and rejected credentials: the server answered', async () => {
    setUp();
    server.reply = REFUSED;
    for (let call = 0; call < 5; call += 1) {
      assert.ok((await failure(signIn())) instanceof NoPassRefused);
    }
    server.reply = REJECTED;
    for (let call = 0; call < 5; call += 1) {
      assert.ok((await failure(signIn())) instanceof NoPassCredentialsRejected);
    }
    // Two outages among twelve calls is not "more than half".
    server.reply = OUTAGE;
    for (let call = 0; call < 2; call += 1) {
      assert.ok((await failure(signIn())) instanceof NoPassUnavailable);
    }
    assert.equal(circuit.state(), 'closed');

    server.reply = OK;
    assert.deepEqual(await signIn(), STARTED);
    assert.equal(server.received.length, 13, 'every call was sent');
    assert.equal(lines(OPENED).length, 0);
    assert.equal(await gauge(), 0);
  });

  it('counts a retried CloseAuthSession as one call', async () => {
    setUp({ minCalls: 2 });
    server.reply = OUTAGE;

    assert.ok((await failure(client.closeAuthSession('auth-0001'))) instanceof NoPassUnavailable);
    assert.equal(server.received.length, 2, 'sent, then retried once');
    // Two failures would have opened it: the retry is inside the one call.
    assert.equal(circuit.state(), 'closed');

    assert.ok((await failure(client.closeAuthSession('auth-0002'))) instanceof NoPassUnavailable);
    assert.equal(server.received.length, 4);
    assert.equal(circuit.state(), 'open');
  });

  it('probes after the reset time: a failed probe reopens, an answered one closes', async () => {
    setUp({ resetMs: 100 });
    server.reply = OUTAGE;
    for (let call = 0; call < 3; call += 1) await failure(signIn());
    assert.equal(circuit.state(), 'open');

    await until('half_open');
    assert.equal(await gauge(), 1);
    assert.equal(lines(HALF_OPEN).length, 1);
    const probe = await failure(signIn());
    assert.ok(probe instanceof NoPassUnavailable && !(probe instanceof NoPassCircuitOpen));
    assert.equal(server.received.length, 4, 'the probe was sent');
    assert.equal(circuit.state(), 'open');
    assert.equal(lines(OPENED).length, 2, 'one line per opening');

    await until('half_open');
    // The probe waits for its answer; meanwhile other calls fail at once, unsent.
    let release: () => void = () => assert.fail('the probe never reached the server');
    server.reply = (response: ServerResponse) => {
      release = () => OK(response, server.received.at(-1)!);
    };
    const answered = signIn();
    for (let tries = 0; tries < 200 && server.received.length < 5; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(server.received.length, 5, 'the probe reached the server');
    assert.ok((await failure(signIn())) instanceof NoPassCircuitOpen);
    assert.equal(server.received.length, 5);
    release();
    assert.deepEqual(await answered, STARTED);

    assert.equal(circuit.state(), 'closed');
    assert.equal(await gauge(), 0);
    assert.equal(lines(CLOSED).length, 1);
    assert.equal(lines(CLOSED)[0]?.level, 'info');

    // Counting starts afresh: the outage before does not reopen it at the next failure.
    server.reply = OUTAGE;
    assert.ok((await failure(signIn())) instanceof NoPassUnavailable);
    assert.equal(circuit.state(), 'closed');
  });

  it('sends every call when turned off', async () => {
    setUp({ enabled: false });
    server.reply = OUTAGE;
    for (let call = 0; call < 6; call += 1) {
      const error = await failure(signIn());
      assert.ok(error instanceof NoPassUnavailable && !(error instanceof NoPassCircuitOpen));
    }
    assert.equal(server.received.length, 6);
    assert.equal(circuit.state(), 'closed');
    assert.equal(lines(OPENED).length, 0);
    assert.equal(await gauge(), 0);
  });
});

describe('NoPass circuit settings', () => {
  const read = (env: Record<string, string>): NoPassCircuitSettings =>
    readSettings(env, () => 'x').nopassCircuit;

  it('is on by default, and NOPASS_CIRCUIT_ENABLED=false turns it off', () => {
    assert.deepEqual(read({}), {
      enabled: true,
      minCalls: 5,
      failurePercent: 50,
      windowMs: 60_000,
      resetMs: 30_000,
    });
    assert.equal(read({ NOPASS_CIRCUIT_ENABLED: 'false' }).enabled, false);
    assert.equal(read({ NOPASS_CIRCUIT_ENABLED: 'on' }).enabled, true);
  });

  it('stops start-up naming the setting with a wrong value', () => {
    for (const [name, value] of [
      ['NOPASS_CIRCUIT_ENABLED', 'maybe'],
      ['NOPASS_CIRCUIT_MIN_CALLS', '0'],
      ['NOPASS_CIRCUIT_FAILURE_PERCENT', '100'],
      ['NOPASS_CIRCUIT_WINDOW_MS', '10'],
      ['NOPASS_CIRCUIT_RESET_MS', 'soon'],
    ] as const) {
      assert.throws(
        () => read({ [name]: value }),
        (error: unknown) => error instanceof SettingsError && error.setting === name,
        name,
      );
    }
  });
});
