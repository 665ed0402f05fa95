// admin.listen: purge and sync reach /admin on the operators' listener the config names (the
// public one answers 404 there); an explicit --url still wins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeCommand } from '../../src/cli/purge.js';
import { syncCommand } from '../../src/cli/sync.js';
import { ALL_SCOPES, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';
import { memoryIO, tempFile } from './helpers.js';

const ADMIN = 'admin-token-0123456789abcdefghij';
let stack: Stack;
let config: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [{ id: 'springfield', sandbox: oauth1Sandbox() }],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
    cache: { ttlSeconds: 3600, deltaSync: { enabled: true, intervalSeconds: 3600 } },
    extra: { admin: { token: ADMIN, listen: { host: '127.0.0.1', port: 0 } } },
  });
  // The file an operator has: both listeners on the ports they actually got.
  const adminPort = Number(new URL(stack.gateway.adminUrl!).port);
  const admin = { token: ADMIN, listen: { host: '127.0.0.1', port: adminPort } };
  config = tempFile('gateway.json', JSON.stringify({ ...stack.config, server: { ...stack.config.server, port: stack.gateway.port }, admin }));
});
afterAll(() => stack?.close());

async function run(command: typeof purgeCommand, args: string[]) {
  const io = memoryIO();
  const code = await command.run(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('admin commands with admin.listen', () => {
  it('purge goes to admin.listen, not server.port', async () => {
    expect(await run(purgeCommand, ['springfield', '--config', config])).toMatchObject({ code: 0, out: 'purged springfield\n', err: '' });
  });

  it('sync goes to admin.listen, not server.port', async () => {
    const r = await run(syncCommand, ['springfield', '--config', config]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe('sync springfield');
  });

  it('an explicit --url still wins over admin.listen', async () => {
    const r = await run(purgeCommand, ['springfield', '--config', config, '--url', stack.gateway.url]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^oneroster-gateway purge: HTTP 404/);
    expect((await run(purgeCommand, ['springfield', '--config', config, '--url', stack.gateway.adminUrl!])).code).toBe(0);
  });
});
