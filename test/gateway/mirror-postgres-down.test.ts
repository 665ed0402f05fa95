// The mirror's PostgreSQL stops answering under a running gateway (its connections cut and new
// ones refused): mirrored reads go to the district instead of failing, a read pinned to a copy and
// the change feed are told to retry, one warning says so, and once the store answers again reads come from the copy.
import { Writable } from 'node:stream';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSandbox, type TestSandbox } from '../../src/sandbox/testing.js';
import { ALL_SCOPES, TOKEN_SECRET, tokenAt } from '../helpers/stack.js';
import { until } from '../helpers/until.js';
import { freshDatabase, postgresUrl, type TestDatabase } from '../mirror/postgres-env.js';

const url = postgresUrl();
const BEARER = 'pg-down-bearer-token';

describe.runIf(url)('the mirror store stops answering', () => {
  let db: TestDatabase | undefined;
  let sandbox: TestSandbox | undefined;
  let gw: RunningGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    await sandbox?.close();
    await db?.dispose();
  });

  it('answers mirrored reads from the district meanwhile, with one warning, and from the copy again after', async () => {
    db = await freshDatabase(url!);
    sandbox = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: BEARER }, users: 50 });
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const config = {
      server: { port: 0, host: '127.0.0.1', drainDelayMs: 0, shutdownGraceMs: 1000 },
      auth: { tokenSecret: TOKEN_SECRET, clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }] },
      cache: { deltaSync: { enabled: false } },
      mirror: { store: db.url },
      districts: [{ id: 'd1', version: 'v1p1', baseUrl: sandbox.baseUrl, auth: { type: 'bearer', token: BEARER }, mirror: true }],
    };
    gw = await startGateway(parseConfig(JSON.stringify(config), {}, 'test'), { logger: createLogger({ level: 'info', destination }) });
    const auth = { authorization: `Bearer ${await tokenAt(gw.url)}` };
    const version = await until(
      async () => {
        const d = (await (await fetch(`${gw!.url}/districts`, { headers: auth })).json()) as { districts: Array<{ mirror: { state: string; version: string } }> };
        return d.districts[0]!.mirror.state === 'ready' ? d.districts[0]!.mirror.version : undefined;
      },
      'a published copy',
      30_000,
      50,
    );
    const page = (offset: number) => `${gw!.url}/districts/d1/ims/oneroster/v1p1/users?limit=5&offset=${offset}`;
    const fromCopy = await fetch(page(0), { headers: auth });
    expect(fromCopy.headers.get('x-cache')).toBe('MIRROR');
    const copyUsers = ((await fromCopy.json()) as { users: Array<{ sourcedId: string }> }).users.map((u) => u.sourcedId);

    const feed = `${gw.url}/districts/d1/changes`;
    const cursor = (await fetch(feed, { headers: auth })).headers.get('x-change-cursor')!;
    expect(cursor).toBeTruthy();

    // The store stops answering: every connection to the copy's database cut, new ones refused.
    // From the server's own database: a database cannot refuse the connection that alters it.
    const admin = postgres(url!, { max: 1, onnotice: () => undefined });
    await admin.unsafe(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
    await admin.unsafe(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.name}' AND pid <> pg_backend_pid()`);
    sandbox.resetHits();
    for (const offset of [0, 5, 10]) {
      const res = await fetch(page(offset), { headers: auth });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-cache')).not.toBe('MIRROR');
      const users = ((await res.json()) as { users: Array<{ sourcedId: string }> }).users;
      expect(users).toHaveLength(5);
      if (offset === 0) expect(users.map((u) => u.sourcedId).sort()).toEqual([...copyUsers].sort());
    }
    // The three pages come from one upstream block of the page cache.
    expect(sandbox.hitCount()).toBeGreaterThan(0);
    const pinned = await fetch(`${page(0)}&snapshot=${encodeURIComponent(version)}`, { headers: auth });
    expect(pinned.status).toBe(503);
    expect(pinned.headers.get('retry-after')).toBe('5');
    expect(((await pinned.json()) as { statusInfoSet: Array<{ imsx_codeMajor: string }> }).statusInfoSet[0]!.imsx_codeMajor).toBe('failure');
    // The change feed cannot be read without its store: retry, never a 500 or a false 410.
    const changes = await fetch(`${feed}?since=${encodeURIComponent(cursor)}`, { headers: auth });
    expect(changes.status).toBe(503);
    expect(changes.headers.get('retry-after')).toBe('5');
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    const warned = lines.filter((l) => l.msg === 'mirror copy unreadable: reads go to the district until it answers again');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 'warn', district: 'd1' });
    expect(JSON.stringify(lines)).not.toContain(db.url);

    // The store answers again: reads come from the copy, and one line says so.
    await admin.unsafe(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
    await until(async () => ((await fetch(page(0), { headers: auth })).headers.get('x-cache') === 'MIRROR' ? true : undefined), 'reads from the copy again', 10_000, 50);
    expect(lines.filter((l) => l.msg === 'mirror copy readable again')).toHaveLength(1);
    expect((await fetch(`${feed}?since=${encodeURIComponent(cursor)}`, { headers: auth })).status).toBe(200);
    expect(lines.filter((l) => l.msg === 'mirror copy unreadable: reads go to the district until it answers again')).toHaveLength(1);
    await admin.end();
  });
});
