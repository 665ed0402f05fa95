import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killPrograms, listeningUrl, runProgram, waitFor } from './helpers/program.js';

// What an operator reads when the gateway will not start: the cause, named, and a non-zero exit.
afterEach(killPrograms);

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

/** No `    at file:line` frames: a stack trace is not a message. */
const STACK = /^\s+at /m;

describe('start-up errors of the gateway process', () => {
  it('an invalid LOG_LEVEL names the variable, the value and the allowed levels, exit 1, no stack', async () => {
    const p = runProgram([], { LOG_LEVEL: 'bogus', PORT: '0', GATEWAY_HOST: '127.0.0.1' });
    expect(await p.exited).toBe(1);
    expect(p.err()).toContain('LOG_LEVEL: "bogus" is not a log level; use one of fatal, error, warn, info, debug, trace, silent');
    expect(p.err()).not.toMatch(STACK);
    expect(p.err()).not.toContain('errorName');
    expect(p.out()).not.toContain('listening');
  });

  it('a busy port names the host and the port, exit 1, and the demo sandbox does not hold the process open', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const p = runProgram([], { PORT: String(port), GATEWAY_HOST: '127.0.0.1' });
      expect(await p.exited).toBe(1);
      expect(p.err()).toContain(`failed to start: listen EADDRINUSE: 127.0.0.1:${port} is already in use`);
      expect(p.err()).not.toMatch(STACK);
      expect(p.out()).not.toContain('"msg":"listening"');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('an unreachable PostgreSQL mirror store names its host and port, never the password, exit 1', async () => {
    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    const file = join(mkdtempSync(join(tmpdir(), 'gw-startup-')), 'gateway.yaml');
    writeFileSync(
      file,
      `server: { port: 0, host: 127.0.0.1 }
auth: { tokenSecret: "${'s'.repeat(40)}", clients: [] }
mirror: { store: "postgres://user:secretpw@127.0.0.1:${port}/db" }
`,
    );
    const p = runProgram(['--config', file]);
    expect(await p.exited).toBe(1);
    const line = p.err().split('\n').find((l) => l.includes('failed to start'));
    expect(line).toContain(`127.0.0.1:${port}`);
    expect(line).toContain('ECONNREFUSED');
    expect(p.err()).not.toContain('secretpw');
    expect(p.err()).not.toContain('postgres://');
    expect(p.err()).not.toMatch(STACK);
    expect(p.out()).not.toContain('secretpw');
  });

  it('--version and -v print the package version and exit 0, whatever else is wrong', async () => {
    for (const flag of ['--version', '-v']) {
      const p = runProgram([flag], { LOG_LEVEL: 'bogus', GATEWAY_CONFIG: '/nonexistent.yaml' });
      expect(await p.exited).toBe(0);
      expect(p.out()).toBe(`${VERSION}\n`);
      expect(p.err()).toBe('');
    }
  });
});

describe('LOG_LEVEL=debug in the gateway process', () => {
  const attempts = (out: string) => out.split('\n').filter((l) => l.includes('"msg":"upstream attempt"'));

  it('logs each upstream attempt of the demo district (its mirror pull), with no secret, signature or URL; info logs none', async () => {
    const debug = runProgram([], { PORT: '0', GATEWAY_HOST: '127.0.0.1', LOG_LEVEL: 'debug' });
    await waitFor(() => (debug.out().includes('"msg":"mirror published"') ? true : undefined));
    const lines = attempts(debug.out());
    expect(lines.length).toBeGreaterThan(5);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ level: 'debug', district: 'demo', attempt: 1, status: 200 });
    expect(first.route).toMatch(/^v1p1 GET \/[a-zA-Z]+$/);
    expect(typeof first.ms).toBe('number');
    const text = lines.join('\n');
    for (const leak of ['demo-consumer-key', 'demo-consumer-secret', 'oauth_signature', 'http://', 'limit=', 'offset=']) expect(text).not.toContain(leak);
    debug.child.kill('SIGTERM');
    expect(await debug.exited).toBe(0);

    const info = runProgram([], { PORT: '0', GATEWAY_HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    await waitFor(() => (info.out().includes('"msg":"mirror published"') ? true : undefined));
    expect(attempts(info.out())).toEqual([]);
    expect(info.out()).not.toContain('"level":"debug"');
    info.child.kill('SIGTERM');
    expect(await info.exited).toBe(0);
  }, 40_000);
});

describe('the demo admin token', () => {
  const ADMIN_EXAMPLES: Array<[string, string, number]> = [
    // README.md's admin examples, as written, against the demo.
    ['DELETE', '/admin/cache/districts/demo', 200],
    ['DELETE', '/admin/cache/districts/demo/users', 200],
    ['DELETE', '/admin/cache/districts/demo/users/usr-00001', 200],
    ['POST', '/admin/districts/demo/sync', 200],
    ['POST', '/admin/districts/demo/mirror/refresh', 202],
    ['GET', '/districts', 200],
    ['GET', '/districts/demo', 200],
  ];

  it('is generated and printed once on stderr when GATEWAY_ADMIN_TOKEN is unset, and runs the README admin examples', async () => {
    const p = runProgram([], { PORT: '0', GATEWAY_HOST: '127.0.0.1' });
    const base = await listeningUrl(p);
    const token = /demo admin token: (\S+)/.exec(p.err())![1]!;
    expect(p.err().match(/demo admin token/g)).toHaveLength(1);
    for (const [method, path, status] of ADMIN_EXAMPLES) {
      const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} ${status}`);
    }
    expect((await fetch(`${base}/admin/cache/districts/demo`, { method: 'DELETE', headers: { authorization: 'Bearer demo-only-guess-0123456789abcdef' } })).status).toBe(401);
    p.child.kill('SIGHUP');
    await waitFor(() => (p.out().includes('"msg":"config reloaded"') ? true : undefined));
    // A reload keeps the token and says nothing needs a restart.
    expect(p.out()).toContain('"restartNeeded":[]');
    expect((await fetch(`${base}/districts`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.err().match(/demo admin token/g)).toHaveLength(1);
    // The JSON log (stdout) never holds it.
    expect(p.out()).not.toContain(token);
  }, 30_000);

  it('is GATEWAY_ADMIN_TOKEN when set, and then nothing is printed', async () => {
    const chosen = 'operator-chosen-admin-token-0123';
    const p = runProgram([], { PORT: '0', GATEWAY_HOST: '127.0.0.1', GATEWAY_ADMIN_TOKEN: chosen });
    const base = await listeningUrl(p);
    expect(p.err()).not.toContain('admin token');
    expect((await fetch(`${base}/admin/districts/demo/sync`, { method: 'POST', headers: { authorization: `Bearer ${chosen}` } })).status).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.out() + p.err()).not.toContain(chosen);
  }, 30_000);
});
