/**
 * The container stack as written: no Docker engine runs here, so the files themselves are
 * checked for what an operator relies on. Redis keeps its data (AOF) and never evicts state;
 * two bridge replicas share Redis and cookie keys behind a proxy they trust; the proxy does
 * not buffer the picture page's event stream and sets the forwarded headers; the image runs
 * unprivileged with a health check.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

const ROOT = new URL('../../', import.meta.url);

interface Service {
  build?: unknown;
  image?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: string[] | Record<string, unknown>;
  restart?: string;
  healthcheck?: { test?: string[]; disable?: boolean };
}

const compose = parse(await readFile(new URL('docker-compose.yml', ROOT), 'utf8'), {
  merge: true,
}) as { services: Record<string, Service> };
const services = compose.services;

/** The bridge replicas: every service running the image's `start` command. */
const bridges = Object.entries(services).filter(
  ([, service]) => Array.isArray(service.command) && service.command[0] === 'start',
);

function nginxConfig(): Promise<string> {
  const proxy = services.proxy;
  assert.ok(proxy, 'a proxy service');
  const mount = proxy.volumes?.find((volume) => volume.includes('/etc/nginx/'));
  assert.ok(mount, 'the proxy mounts its configuration');
  const [file] = mount.split(':');
  return readFile(new URL(file!, ROOT), 'utf8');
}

function without(text: string): string {
  return text.replace(/#.*$/gm, '');
}

describe('docker-compose.yml', () => {
  it('has Redis, two bridge replicas, the proxy, the simulator and the registration', () => {
    for (const name of ['redis', 'proxy', 'simulator', 'register-portal']) {
      assert.ok(services[name], `service ${name}`);
    }
    assert.equal(bridges.length, 2, 'two bridge replicas');
  });

  it('runs Redis with an append-only file and noeviction, on a volume', () => {
    const redis = services.redis!;
    const command = (Array.isArray(redis.command) ? redis.command : [redis.command]).join(' ');
    assert.match(command, /--appendonly yes/);
    assert.match(command, /--maxmemory-policy noeviction/);
    assert.ok(
      redis.volumes?.some((volume) => volume.endsWith(':/data')),
      'data on a volume',
    );
    assert.ok(redis.healthcheck?.test?.includes('ping'));
  });

  it('gives the replicas one Redis, one set of cookie keys and one issuer, proxied', () => {
    const envs = bridges.map(([, service]) => service.environment ?? {});
    for (const env of envs) {
      assert.match(env.REDIS_URL ?? '', /^redis:\/\/redis:6379/);
      assert.ok((env.COOKIE_KEYS ?? '').length >= 32, 'cookie keys set, 32+ characters');
      assert.equal(env.TRUST_PROXY, 'true');
      assert.equal(env.PORT, '3000');
    }
    for (const name of ['REDIS_URL', 'REDIS_KEY_PREFIX', 'COOKIE_KEYS', 'ISSUER']) {
      assert.equal(new Set(envs.map((env) => env[name])).size, 1, `${name} shared`);
    }
    for (const [, service] of bridges) {
      assert.equal(service.ports, undefined, 'replicas are reached through the proxy only');
      const deps = service.depends_on as Record<string, { condition?: string }>;
      assert.equal(deps.redis?.condition, 'service_healthy', 'start once Redis answers');
    }
    assert.ok(services.proxy?.ports?.some((port) => port.startsWith('3000:')));
  });

  it('registers the portal through the proxy, with a bounded number of retries', () => {
    const command = String(services['register-portal']!.command);
    assert.match(command, /webUrl: 'http:\/\/proxy'/);
    assert.match(services['register-portal']!.restart ?? '', /^on-failure:\d+$/);
  });
});

describe('deploy/nginx.conf', () => {
  it('sends requests to every replica', async () => {
    const config = without(await nginxConfig());
    for (const [name] of bridges) {
      assert.match(config, new RegExp(`server ${name}:3000`), `upstream ${name}`);
    }
    assert.match(config, /proxy_pass http:\/\/bridge;/);
  });

  it('does not buffer event streams, and sets the forwarded headers', async () => {
    const config = without(await nginxConfig());
    assert.match(config, /proxy_buffering off;/);
    assert.match(config, /proxy_http_version 1\.1;/);
    for (const header of ['X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Host']) {
      assert.match(config, new RegExp(`proxy_set_header ${header} \\$`), header);
    }
    const readTimeout = /proxy_read_timeout (\d+)s;/.exec(config);
    assert.ok(readTimeout && Number(readTimeout[1]) > 15, 'longer than the stream heartbeat');
  });
});

describe('Dockerfile', () => {
  it('builds in stages on Node 24, runs unprivileged, and has a health check', async () => {
    const dockerfile = without(await readFile(new URL('Dockerfile', ROOT), 'utf8'));
    const stages = dockerfile.match(/^FROM node:24\S*/gm) ?? [];
    assert.ok(stages.length >= 2, 'multi-stage on node:24');
    const user = /^USER (\S+)/m.exec(dockerfile)?.[1];
    assert.ok(user && user !== 'root' && user !== '0', 'a non-root user');
    assert.match(dockerfile, /^HEALTHCHECK .*\/healthz/ms);
  });
});
