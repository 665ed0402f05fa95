import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeCommand } from '../../src/cli/purge.js';
import { syncCommand } from '../../src/cli/sync.js';
import { ALL_SCOPES, oauth1Sandbox, oauth2Sandbox, startStack, type Stack } from '../helpers/stack.js';
import { memoryIO, stackConfigFile, tempFile } from './helpers.js';

const ADMIN = 'admin-token-0123456789abcdefghij';
let stack: Stack;
let config: string;
let token: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [
      { id: 'springfield', sandbox: oauth1Sandbox() },
      { id: 'shelbyville', sandbox: oauth2Sandbox() },
    ],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
    // Delta sync on with a long interval: the start-up poll runs once, the tests drive the rest.
    cache: { ttlSeconds: 3600, deltaSync: { enabled: true, intervalSeconds: 3600 } },
    admin: { token: ADMIN },
  });
  config = stackConfigFile(stack);
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

const read = (path: string) => stack.http.get(`/districts/springfield/ims/oneroster/v1p1${path}`).set('authorization', `Bearer ${token}`);
const cacheOf = async (path: string) => (await read(path)).headers['x-cache'] as string;

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function run(command: typeof purgeCommand, args: string[], env: Record<string, string> = {}) {
  const io = memoryIO({ env });
  const code = await command.run(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('purge', () => {
  it('drops a district: the next read is a MISS (URL and admin token from the config)', async () => {
    await read('/orgs?limit=5');
    expect(await cacheOf('/orgs?limit=5')).toBe('HIT');
    const r = await run(purgeCommand, ['springfield', '--config', config]);
    expect(r).toMatchObject({ code: 0, out: 'purged springfield\n', err: '' });
    expect(await cacheOf('/orgs?limit=5')).toBe('MISS');
  });

  it('drops one collection and leaves the others cached', async () => {
    await read('/users?limit=5');
    await read('/courses?limit=5');
    const r = await run(purgeCommand, ['springfield', 'users', '--config', config]);
    expect(r).toMatchObject({ code: 0, out: 'purged springfield/users\n' });
    expect(await cacheOf('/users?limit=5')).toBe('MISS');
    expect(await cacheOf('/courses?limit=5')).toBe('HIT');
  });

  it('drops one record', async () => {
    const id = (await read('/users?limit=1')).body.users[0].sourcedId as string;
    await read(`/users/${id}`);
    expect(await cacheOf(`/users/${id}`)).toBe('HIT');
    const r = await run(purgeCommand, ['springfield', 'users', id, '--config', config]);
    expect(r).toMatchObject({ code: 0, out: `purged springfield/users/${id}\n` });
    expect(await cacheOf(`/users/${id}`)).toBe('MISS');
  });

  it('takes the admin token from --admin-token, else GATEWAY_ADMIN_TOKEN, before the config', async () => {
    const noAdmin = tempFile('noadmin.json', JSON.stringify({ ...stack.config, admin: undefined }));
    const url = ['--url', stack.gateway.url, '--config', noAdmin];
    expect((await run(purgeCommand, ['springfield', ...url, '--admin-token', ADMIN])).code).toBe(0);
    expect((await run(purgeCommand, ['springfield', ...url], { GATEWAY_ADMIN_TOKEN: ADMIN })).code).toBe(0);
    const wrong = await run(purgeCommand, ['springfield', ...url, '--admin-token', 'wrong-token-0123456789abcdef'], { GATEWAY_ADMIN_TOKEN: ADMIN });
    expect(wrong.code).toBe(1);
    expect(wrong.err).toBe('oneroster-gateway purge: HTTP 401: The admin API needs Authorization: Bearer <admin token>.\n');
    const none = await run(purgeCommand, ['springfield', ...url]);
    expect(none.code).toBe(1);
    expect(none.err).toContain('no admin token: pass --admin-token or set GATEWAY_ADMIN_TOKEN');
  });

  it('needs no config file when --url and --admin-token are given', async () => {
    const r = await run(purgeCommand, ['springfield', '--url', `${stack.gateway.url}/`, '--admin-token', ADMIN], { GATEWAY_CONFIG: '/nonexistent.yaml' });
    expect(r.code).toBe(0);
  });

  it('exits 1 with the gateway\'s description for an unknown district or collection', async () => {
    const district = await run(purgeCommand, ['nowhere', '--config', config]);
    expect(district.code).toBe(1);
    expect(district.err).toBe('oneroster-gateway purge: HTTP 404: No district with id "nowhere".\n');
    const collection = await run(purgeCommand, ['springfield', 'pupils', '--config', config]);
    expect(collection.code).toBe(1);
    expect(collection.err).toContain('Unknown collection "pupils"');
  });

  it('exits 1 when the gateway cannot be reached', async () => {
    const port = await closedPort();
    const r = await run(purgeCommand, ['springfield', '--url', `http://127.0.0.1:${port}`, '--admin-token', ADMIN]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`oneroster-gateway purge: cannot reach the gateway at http://127.0.0.1:${port} (ECONNREFUSED)\n`);
  });
});

describe('sync', () => {
  it('runs a delta sync and prints each collection\'s outcome', async () => {
    const r = await run(syncCommand, ['shelbyville', '--config', config]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toBe('sync shelbyville');
    expect(lines[1]).toMatch(/^collection\s+outcome\s+changes\s+pages\s+watermark$/);
    for (const c of ['orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments', 'demographics']) {
      expect(r.out).toMatch(new RegExp(`\\n${c}\\s+synced\\s+0\\s+1\\s+\\d{4}-\\d\\d-\\d\\dT`));
    }
  });

  it('reports a change the district made', async () => {
    const sandbox = stack.sandboxes.springfield!;
    const course = sandbox.store.list('courses')[0]!;
    await run(syncCommand, ['springfield', '--config', config]);
    sandbox.store.update('courses', course.sourcedId, { title: 'Renamed by the district' });
    const r = await run(syncCommand, ['springfield', '--config', config]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\ncourses\s+synced\s+1\s+1\s/);
  });

  it("exits 1 with the gateway's description for an unknown district", async () => {
    const r = await run(syncCommand, ['nowhere', '--config', config]);
    expect(r.code).toBe(1);
    expect(r.err).toBe('oneroster-gateway sync: HTTP 404: No district with id "nowhere".\n');
  });
});
