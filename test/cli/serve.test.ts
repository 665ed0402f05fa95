import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { memoryIO, tempFile } from './helpers.js';

const CONFIG = (districtName: string) => `server: { port: 0, host: 127.0.0.1, shutdownGraceMs: 1000 }
auth:
  tokenSecret: "${'s'.repeat(40)}"
  clients:
    - { clientId: app, clientSecret: app-secret-value, districts: ["*"], scopes: [roster-core.readonly] }
sandboxes:
  - { id: box, version: v1p1, auth: { type: bearer, token: box-token }, users: 20 }
districts:
  - { id: first, name: "${districtName}", version: v1p1, baseUrl: "sandbox://box/ims/oneroster", auth: { type: bearer, token: box-token } }
`;

async function until<T>(fn: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('serve, in process', () => {
  it('is the default command: listens, reloads on SIGHUP and answers exit status 0 after SIGTERM', async () => {
    const file = tempFile('gateway.yaml', CONFIG('Before'));
    const signals = new EventEmitter();
    const io = { ...memoryIO({ env: { GATEWAY_CONFIG: file } }), signals };
    const exited = runCli([], io);
    const port = await until(() => {
      const line = io.out().split('\n').find((l) => l.includes('"msg":"listening"'));
      return line ? (JSON.parse(line) as { port: number }).port : undefined;
    });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    writeFileSync(file, CONFIG('After'));
    signals.emit('SIGHUP');
    await until(() => (io.out().includes('"msg":"config reloaded"') ? true : undefined));

    signals.emit('SIGTERM');
    expect(await exited).toBe(0);
    expect(io.out()).toContain('"msg":"stopped"');
    expect(io.out()).not.toContain('app-secret-value');
  });

  it('reads districtsDir again on SIGHUP: a new file is served, a bad one is refused naming it and the running districts stay', async () => {
    const file = tempFile('gateway.yaml', `server: { port: 0, host: 127.0.0.1, shutdownGraceMs: 1000 }
auth:
  tokenSecret: "${'s'.repeat(40)}"
  clients:
    - { clientId: app, clientSecret: app-secret-value, districts: ["*"], scopes: [roster-core.readonly] }
sandboxes:
  - { id: box, version: v1p1, auth: { type: bearer, token: box-token }, users: 20 }
defaults: { upstream: { maxConcurrency: 2 } }
districtsDir: districts.d
`);
    const dir = join(dirname(file), 'districts.d');
    mkdirSync(dir);
    const district = (id: string, version = 'v1p1') => `id: ${id}\nversion: ${version}\nbaseUrl: sandbox://box/ims/oneroster\nauth: { type: bearer, token: "\${file:box.token}" }\n`;
    writeFileSync(join(dir, 'box.token'), 'box-token\n');
    writeFileSync(join(dir, '10-first.yaml'), district('first'));
    const signals = new EventEmitter();
    const io = { ...memoryIO({ env: { GATEWAY_CONFIG: file } }), signals };
    const exited = runCli([], io);
    const port = await until(() => {
      const line = io.out().split('\n').find((l) => l.includes('"msg":"listening"'));
      return line ? (JSON.parse(line) as { port: number }).port : undefined;
    });
    const base = `http://127.0.0.1:${port}`;
    const token = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=app&client_secret=app-secret-value',
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const ids = async () =>
      ((await (await fetch(`${base}/districts`, { headers: { authorization: `Bearer ${token.access_token}` } })).json()) as { districts: Array<{ id: string }> }).districts.map((d) => d.id);
    expect(await ids()).toEqual(['first']);

    writeFileSync(join(dir, '20-second.yaml'), district('second'));
    signals.emit('SIGHUP');
    await until(() => (io.out().includes('"msg":"config reloaded"') ? true : undefined));
    expect(await ids()).toEqual(['first', 'second']);
    const users = await fetch(`${base}/districts/second/ims/oneroster/v1p1/users?limit=1`, { headers: { authorization: `Bearer ${token.access_token}` } });
    expect(users.status).toBe(200);

    writeFileSync(join(dir, '30-bad.yaml'), district('third', 'v9'));
    signals.emit('SIGHUP');
    const refusal = await until(() => io.out().split('\n').find((l) => l.includes('config reload refused')));
    expect(refusal).toContain(`${join(dir, '30-bad.yaml')}:2:10: districts[third].version: must be v1p1, v1p2 or auto`);
    expect(await ids()).toEqual(['first', 'second']);

    signals.emit('SIGTERM');
    expect(await exited).toBe(0);
    expect(io.out()).not.toContain('box-token');
  });

  it('counts a SIGHUP refused for a sandbox this process did not start as a failed reload', async () => {
    const file = tempFile('gateway.yaml', CONFIG('Before'));
    const signals = new EventEmitter();
    const io = { ...memoryIO({ env: { GATEWAY_CONFIG: file } }), signals };
    const exited = runCli([], io);
    const port = await until(() => {
      const line = io.out().split('\n').find((l) => l.includes('"msg":"listening"'));
      return line ? (JSON.parse(line) as { port: number }).port : undefined;
    });
    const failures = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(/^oneroster_gateway_config_reloads_total\{outcome="failure"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    expect(await failures()).toBe(0);

    // A valid file, but its new sandbox starts only with a restart: serve.ts refuses it.
    const withOther = CONFIG('After').replace('districts:\n', '  - { id: other, version: v1p1, auth: { type: bearer, token: box-token }, users: 10 }\ndistricts:\n');
    writeFileSync(file, `${withOther}  - { id: second, version: v1p1, baseUrl: "sandbox://other/ims/oneroster", auth: { type: bearer, token: box-token } }\n`);
    signals.emit('SIGHUP');
    const refusal = await until(() => io.out().split('\n').find((l) => l.includes('config reload refused')));
    expect(refusal).toContain('starts only with a restart');
    expect(await failures()).toBe(1);

    signals.emit('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('exits 1 on an invalid config without listening', async () => {
    const file = tempFile('gateway.yaml', 'auth: { tokenSecret: short }\n');
    const io = memoryIO();
    expect(await runCli(['serve', '--config', file], io)).toBe(1);
    expect(io.err()).toContain(`${file}:1:22: auth.tokenSecret: must be at least 32 characters`);
    expect(io.out()).not.toContain('listening');
    // A YAML syntax error, at start-up too, with its line and column.
    const broken = tempFile('gateway.yaml', 'auth:\n  tokenSecret: [unclosed\nserver: { port: 0 }\n');
    const io2 = memoryIO();
    expect(await runCli(['serve', '--config', broken], io2)).toBe(1);
    expect(io2.err()).toMatch(new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: YAML: `));
  });
});

describe('serve, LOG_LEVEL', () => {
  it('takes every pino level, any case; refuses anything else naming the variable, the value and the levels', async () => {
    const { parseLogLevel, LOG_LEVELS } = await import('../../src/observability/logger.js');
    for (const level of LOG_LEVELS) expect(parseLogLevel(level.toUpperCase())).toEqual({ level });
    expect(parseLogLevel(undefined)).toEqual({ level: 'info' });
    expect(parseLogLevel('')).toEqual({ level: 'info' });
    const io = memoryIO({ env: { LOG_LEVEL: 'verbose' } });
    expect(await runCli(['serve'], io)).toBe(1);
    expect(io.err()).toBe('oneroster-gateway serve: LOG_LEVEL: "verbose" is not a log level; use one of fatal, error, warn, info, debug, trace, silent\n');
    // Hostile values are quoted as JSON and cut, so they cannot forge lines of their own.
    const hostile = memoryIO({ env: { LOG_LEVEL: `x\nforged line${'y'.repeat(500)}` } });
    expect(await runCli(['serve'], hostile)).toBe(1);
    expect(hostile.err().split('\n').filter(Boolean)).toHaveLength(1);
    expect(hostile.err().length).toBeLessThan(200);
  });
});
