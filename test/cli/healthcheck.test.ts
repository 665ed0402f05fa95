import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { healthcheckCommand, probeHost } from '../../src/cli/healthcheck.js';
import { runCli } from '../../src/cli/index.js';
import { memoryIO, tempFile } from './helpers.js';

const SECRET = 'healthcheck-token-secret-0123456789abcdef';
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A listener on 127.0.0.1 answering /healthz with `status`; counts the paths it was asked. */
async function listener(status: number, delayMs = 0): Promise<{ port: number; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    setTimeout(() => res.writeHead(status).end('{}'), delayMs);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, asked };
}

function config(host: string, port: number): string {
  return tempFile('gateway.yaml', `server: { host: "${host}", port: ${port} }\nauth: { tokenSecret: ${SECRET} }\n`);
}

describe('healthcheck command', () => {
  it('exits 0 when the configured listener answers /healthz 200, asking loopback for a wildcard bind', async () => {
    const { port, asked } = await listener(200);
    const io = memoryIO({ env: { GATEWAY_CONFIG: config('0.0.0.0', port) } });
    expect(await runCli(['healthcheck'], { ...io, fetch })).toBe(0);
    expect(asked).toEqual(['/healthz']);
    expect(io.err()).toBe('');
  });

  it('follows PORT over server.port, as serve does', async () => {
    const { port } = await listener(200);
    const io = memoryIO({ env: { PORT: String(port) } });
    expect(await healthcheckCommand.run(['--config', config('127.0.0.1', 1)], { ...io, fetch })).toBe(0);
  });

  it('exits 1 naming the address when the answer is not 200, nothing listens, or no answer comes in time', async () => {
    const failing = await listener(503);
    const unhealthy = memoryIO();
    expect(await healthcheckCommand.run(['--config', config('127.0.0.1', failing.port)], { ...unhealthy, fetch })).toBe(1);
    expect(unhealthy.err()).toBe(`oneroster-gateway healthcheck: http://127.0.0.1:${failing.port}/healthz answered 503\n`);

    const gone = await listener(200);
    await new Promise((r) => servers.pop()!.close(r));
    const closed = memoryIO();
    expect(await healthcheckCommand.run(['--config', config('127.0.0.1', gone.port)], { ...closed, fetch })).toBe(1);
    expect(closed.err()).toContain(`http://127.0.0.1:${gone.port}/healthz not reachable`);

    const slow = await listener(200, 2_000);
    const late = memoryIO();
    expect(await healthcheckCommand.run(['--config', config('127.0.0.1', slow.port), '--timeout', '200'], { ...late, fetch })).toBe(1);
    expect(late.err()).toContain('no answer within 200 ms');
  });

  it('fails on an invalid config with its problems, and on a bad --timeout with usage', async () => {
    const bad = memoryIO();
    expect(await healthcheckCommand.run(['--config', tempFile('bad.yaml', 'auth: { tokenSecret: short }\n')], { ...bad, fetch })).toBe(1);
    expect(bad.err()).toContain('auth.tokenSecret');
    const usage = memoryIO();
    expect(await healthcheckCommand.run(['--timeout', 'soon'], { ...usage, fetch })).toBe(2);
  });

  it('maps bind addresses to the address to ask', () => {
    expect(probeHost('0.0.0.0')).toBe('127.0.0.1');
    expect(probeHost('::')).toBe('[::1]');
    expect(probeHost('127.0.0.2')).toBe('127.0.0.2');
    expect(probeHost('::1')).toBe('[::1]');
    expect(probeHost('gateway.internal')).toBe('gateway.internal');
  });
});
