import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
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

  it('exits 1 on an invalid config without listening', async () => {
    const file = tempFile('gateway.yaml', 'auth: { tokenSecret: short }\n');
    const io = memoryIO();
    expect(await runCli(['serve', '--config', file], io)).toBe(1);
    expect(io.err()).toContain('auth.tokenSecret: must be at least 32 characters');
    expect(io.out()).not.toContain('listening');
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
