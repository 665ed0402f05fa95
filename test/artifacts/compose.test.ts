// compose.yaml and its nginx: two replicas sharing one Redis and one PostgreSQL behind nginx. No
// Docker daemon here, so the file is checked for what it must hold, the gateways' config is loaded
// with the compose environment as each replica would, and nginx checks the balancer's config.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFile } from '../../src/config/load.js';
import { nginxBinary } from '../cluster/nginx.js';

interface Service {
  build?: string;
  image?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  stop_grace_period?: string;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
}
const compose = parse(readFileSync('compose.yaml', 'utf8'), { merge: true }) as { services: Record<string, Service> };
const gateways = Object.entries(compose.services).filter(([name]) => name.startsWith('gateway-'));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** What `${VAR:?msg}` and `${VAR:-default}` give with the variables an operator sets. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::[?-]([^}]*))?\}/g, (_, name: string, fallback: string | undefined) => env[name] ?? fallback ?? '');
}

describe('compose.yaml', () => {
  it('runs two gateway replicas of this Dockerfile with one environment, waiting for healthy stores', () => {
    expect(gateways.map(([name]) => name)).toEqual(['gateway-1', 'gateway-2']);
    for (const [, g] of gateways) {
      expect(g.build).toBe('.');
      expect(g.environment).toEqual(gateways[0]![1].environment);
      expect(g.depends_on).toEqual({ redis: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } });
    }
    expect(compose.services.redis!.healthcheck!.test).toContain('ping');
    expect(compose.services.postgres!.healthcheck!.test).toContain('pg_isready');
  });

  it("gives each replica a stop grace above the gateway's default drain and grace", () => {
    const seconds = Number(/^(\d+)s$/.exec(gateways[0]![1].stop_grace_period ?? '')?.[1]);
    const config = loadConfigFile(resolve('gateway.example.yaml'), {});
    expect(seconds * 1000).toBeGreaterThanOrEqual(config.server.drainDelayMs + config.server.shutdownGraceMs + 5000);
  });

  it('hands every replica a config that shares the Redis cache and the PostgreSQL mirror of this file', () => {
    const env = Object.fromEntries(Object.entries(gateways[0]![1].environment!).map(([k, v]) => [k, interpolate(v, { GATEWAY_TOKEN_SECRET: 'c'.repeat(64), GATEWAY_ADMIN_TOKEN: 'a'.repeat(48) })]));
    const config = loadConfigFile(resolve('gateway.example.yaml'), env);
    expect(String(config.cache.store)).toMatch(/^redis:\/\/redis:6379/);
    expect(JSON.stringify(config.mirror)).toContain('@postgres:5432/gateway');
    expect(config.auth.tokenSecret).toBe('c'.repeat(64));
    const pg = compose.services.postgres!.environment!;
    expect(env.GATEWAY_MIRROR_STORE).toBe(`postgres://${pg.POSTGRES_USER}:gateway@postgres:5432/${pg.POSTGRES_DB}`);
  });

  it("refuses to start without the shared secrets (compose's ${VAR:?})", () => {
    const env = gateways[0]![1].environment!;
    expect(env.GATEWAY_TOKEN_SECRET).toMatch(/^\$\{GATEWAY_TOKEN_SECRET:\?/);
    expect(env.GATEWAY_ADMIN_TOKEN).toMatch(/^\$\{GATEWAY_ADMIN_TOKEN:\?/);
  });

  it("balances over exactly the replicas, on the port they listen on, with a config nginx accepts", () => {
    const nginx = compose.services.nginx!;
    const mount = nginx.volumes!.find((v) => v.endsWith(':/etc/nginx/nginx.conf:ro'))!;
    const file = resolve(mount.split(':')[0]!);
    const text = readFileSync(file, 'utf8');
    const port = loadConfigFile(resolve('gateway.example.yaml'), {}).server.port;
    expect([...text.matchAll(/^\s*server (\S+?):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`)).toEqual(gateways.map(([name]) => `${name}:${port}`));
    expect(text).toContain('proxy_set_header X-Request-Id $gateway_request_id;');
    const bin = nginxBinary();
    if (!bin && process.env.CI === 'true') throw new Error('CI needs nginx: apt-get install -y nginx');
    if (!bin) return console.warn('nginx not found (apt-get install nginx): the balancer config is not checked by nginx here');
    // The replicas' names resolve only inside compose's network: here they stand on loopback.
    const dir = mkdtempSync(join(tmpdir(), 'orgw-compose-nginx-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'nginx.conf'), text.replace(/server gateway-\d+:/g, 'server 127.0.0.1:'));
    const r = spawnSync(bin!, ['-t', '-c', join(dir, 'nginx.conf'), '-p', `${dir}/`, '-e', join(dir, 'error.log'), '-g', `pid ${dir}/nginx.pid;`], { encoding: 'utf8' });
    expect(r.stderr).toContain('test is successful');
  });
});
