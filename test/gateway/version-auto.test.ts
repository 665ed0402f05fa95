import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type TestSandbox } from '../../src/sandbox/testing.js';
import { ALL_SCOPES, UPSTREAM_SECRETS, bearerSandbox, oauth1Sandbox, oauth2Sandbox, startStack, type Stack } from '../helpers/stack.js';

// `version: auto`: the district is asked which OneRoster it speaks (1.2 path, then 1.1) at
// its first request, the answer is remembered, and repeated 404s on collection paths make
// the gateway ask again (a district upgraded in place).

const auto = { version: 'auto' };
let stack: Stack;
let token: string;
let clock = Date.now();

/** One origin in front of two sandboxes: `target` says which one answers (an upgrade in place). */
interface Switch {
  url: string;
  target: TestSandbox;
  close(): Promise<void>;
}
async function startSwitch(initial: TestSandbox): Promise<Switch> {
  const sw = { target: initial } as Switch;
  const server: Server = createServer((req, res) => {
    const to = new URL(sw.target.url);
    const out = httpRequest({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  sw.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sw.close = () => new Promise<void>((r) => server.close(() => r()));
  return sw;
}

let old11: TestSandbox;
let new12: TestSandbox;
let sw: Switch;

beforeAll(async () => {
  const bearer = { type: 'bearer' as const, token: 'classlink-bearer-token-xyz' };
  old11 = await startSandbox(bearerSandbox({ seed: 7 }));
  new12 = await startSandbox({ ...bearerSandbox({ seed: 7 }), version: 'v1p2', auth: bearer });
  sw = await startSwitch(old11);
  stack = await startStack({
    districts: [
      { id: 'old', sandbox: oauth1Sandbox(), extra: auto },
      { id: 'new', sandbox: oauth2Sandbox(), extra: auto },
      { id: 'nothing', sandbox: oauth1Sandbox(), extra: { ...auto, baseUrl: 'http://127.0.0.1:9/ims/oneroster' } },
    ],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
    now: () => clock,
  });
  // The switching district goes in by reload: its base URL is the switch, not a sandbox of the stack.
  await stack.gateway.reload({
    ...stack.config,
    districts: [
      ...stack.config.districts,
      { ...stack.config.districts[0]!, id: 'upgraded', name: 'Upgraded', version: 'auto', baseUrl: `${sw.url}/ims/oneroster`, auth: bearer },
    ],
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(async () => {
  await stack?.close();
  await Promise.all([old11?.close(), new12?.close(), sw?.close()]);
});

const get = (district: string, path: string) => stack.http.get(`/districts/${district}/ims/oneroster${path}`).set('authorization', `Bearer ${token}`);
const listing = async () => {
  const res = await stack.http.get('/districts').set('authorization', `Bearer ${token}`);
  expect(res.status).toBe(200);
  return Object.fromEntries((res.body.districts as Array<{ id: string }>).map((d) => [d.id, d])) as Record<string, Record<string, unknown>>;
};
const probes = (s: TestSandbox) => s.hits.filter((h) => h.path.endsWith('/orgs') && h.query === 'limit=1').map((h) => `${h.path} ${h.status}`);

describe('version: auto', () => {
  it('is unknown (null) in GET /districts before the first request', async () => {
    const all = await listing();
    expect(all.old).toMatchObject({ version: null, versionProbe: { state: 'pending' } });
    expect(all.new).toMatchObject({ version: null, versionProbe: { state: 'pending' } });
    expect(stack.sandboxes.old!.hitCount()).toBe(0);
  });

  it('asks a 1.1 district the 1.2 path, then the 1.1 path, once for many concurrent first requests', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => get('old', `/v1p1/users?limit=${i + 1}`)));
    for (const [i, res] of answers.entries()) {
      expect(res.status).toBe(200);
      expect(res.body.users).toHaveLength(i + 1);
    }
    expect(probes(stack.sandboxes.old!)).toEqual(['/ims/oneroster/rostering/v1p2/orgs 404', '/ims/oneroster/v1p1/orgs 200']);
    // Read in the other version: the gateway maps it, because it knows the district speaks 1.1.
    const mapped = await get('old', '/rostering/v1p2/users?limit=3');
    expect(mapped.status).toBe(200);
    expect(mapped.body.users[0].roles).toBeInstanceOf(Array);
    expect(stack.sandboxes.old!.hits.some((h) => h.path.includes('/v1p2/users'))).toBe(false);
    expect(probes(stack.sandboxes.old!)).toHaveLength(2);
    expect((await listing()).old).toMatchObject({ version: 'v1p1', versionProbe: { state: 'probed' } });
  });

  it('settles a 1.2 district (OAuth 2.0) with one probe request', async () => {
    const res = await get('new', '/v1p1/users?limit=2');
    expect(res.status).toBe(200);
    expect(res.body.users[0].role).toEqual(expect.any(String));
    expect(probes(stack.sandboxes.new!)).toEqual(['/ims/oneroster/rostering/v1p2/orgs 200']);
    expect((await listing()).new).toMatchObject({ version: 'v1p2', versionProbe: { state: 'probed' } });
  });

  it('answers a district that cannot be asked with JSON status-info, then spares it for a while', async () => {
    const res = await get('nothing', '/v1p1/orgs');
    expect(res.status).toBe(502);
    // 1.1 status-info: a statusInfoSet.
    expect(res.body.statusInfoSet[0]).toMatchObject({ imsx_codeMajor: 'failure', imsx_severity: 'error' });
    expect(res.body.statusInfoSet[0].imsx_description).toContain('"nothing"');
    const text = JSON.stringify(res.body);
    expect(text).not.toContain('127.0.0.1:9');
    for (const s of UPSTREAM_SECRETS) expect(text).not.toContain(s);
    expect((await listing()).nothing).toMatchObject({ version: null, versionProbe: { state: 'failed', lastFailure: 'UPSTREAM_UNREACHABLE' } });
    const logLines = stack.logs.filter((l) => l.includes('version probe failed')).length;
    expect((await get('nothing', '/v1p1/users')).status).toBe(502);
    // Within the retry pause, the remembered failure answers: no new probe, no new log line.
    expect(stack.logs.filter((l) => l.includes('version probe failed')).length).toBe(logLines);
  });

  it('asks again after repeated 404s on collection paths, and follows the upgrade', async () => {
    expect((await get('upgraded', '/v1p1/orgs?limit=2')).status).toBe(200);
    expect((await listing()).upgraded).toMatchObject({ version: 'v1p1' });

    // The district is upgraded in place: 1.1 paths now answer 404.
    sw.target = new12;
    clock += 120_000; // past the cache TTL and the re-probe pause
    const statuses: number[] = [];
    for (const c of ['users', 'classes', 'courses', 'schools']) statuses.push((await get('upgraded', `/v1p1/${c}?limit=2`)).status);
    expect(statuses.slice(0, 3)).toEqual([404, 404, 404]);
    await expect.poll(async () => (await listing()).upgraded!.version, { timeout: 5000 }).toBe('v1p2');
    expect(stack.logs.some((l) => l.includes('district version changed') && l.includes('"upgraded"'))).toBe(true);

    // The same 1.1 path now works, read from the 1.2 district and mapped.
    const users = await get('upgraded', '/v1p1/users?limit=2');
    expect(users.status).toBe(200);
    expect(users.body.users).toHaveLength(2);
    expect(new12.hits.some((h) => h.path === '/ims/oneroster/rostering/v1p2/users')).toBe(true);
  });

  it('does not ask again for 404s of single records', async () => {
    const before = probes(stack.sandboxes.old!).length;
    for (let i = 0; i < 5; i++) expect((await get('old', `/v1p1/users/nobody-${i}`)).status).toBe(404);
    expect(probes(stack.sandboxes.old!).length).toBe(before);
  });
});
