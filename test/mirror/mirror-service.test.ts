import { afterEach, describe, expect, it } from 'vitest';
import { createDistrictRegistry } from '../../src/districts/districts.js';
import { createMemoryMirrorStore } from '../../src/mirror/memory-store.js';
import { createMirrorService, type MirrorServiceOptions, type MirrorSettings } from '../../src/mirror/mirror-service.js';
import { district, fakeDistrict, records, type FakeDistrictState } from './fake-district.js';

const SETTINGS: MirrorSettings = { fullRefreshSeconds: 3600, collections: ['orgs', 'users'] };
let clock = Date.parse('2026-06-01T00:00:00Z');
const services: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
});

async function until(cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function setup(extra: Partial<MirrorServiceOptions> = {}, mirrored: Record<string, MirrorSettings | undefined> = { d1: SETTINGS }) {
  const d = district({ orgs: records('orgs', 2), users: records('users', 30) });
  const other = fakeDistrict('d2', { data: { orgs: records('orgs', 1), users: records('users', 3) }, requests: [] });
  const districts = createDistrictRegistry([d.district, other]);
  const store = createMemoryMirrorStore();
  const logs: object[] = [];
  const logger = { info: (o: object) => logs.push(o), warn: (o: object) => logs.push(o) };
  const service = createMirrorService({
    store,
    districts,
    settings: (id) => mirrored[id],
    pageSize: 100,
    shrinkGuardPercent: () => 20,
    logger,
    now: () => clock,
    tickMs: 10,
    retryMs: 60_000,
    ...extra,
  });
  services.push(service);
  return { d, districts, store, service, logs, mirrored };
}

describe('the mirror service', () => {
  it('pulls a mirrored district that has no copy, serves it, and leaves the others alone', async () => {
    const { d, service } = setup();
    expect(service.serving('d1')).toBeUndefined();
    service.start();
    await until(() => service.serving('d1') !== undefined);
    expect(service.serving('d1')!.counts).toEqual({ orgs: 2, users: 30 });
    expect(service.serving('d2')).toBeUndefined();
    expect((await service.status('d2')).state).toBe('off');
    const status = await service.status('d1');
    expect(status).toMatchObject({ state: 'ready', version: service.serving('d1')!.version, counts: { orgs: 2, users: 30 }, lastFullPull: { outcome: 'published', upstreamRequests: expect.any(Number) }, lastRefusal: null, lastError: null });
    // Settled: ticks that find nothing due ask the district nothing.
    const asked = d.state.requests.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(d.state.requests.length).toBe(asked);
  });

  it('pulls again once fullRefreshSeconds have passed since the last published pull', async () => {
    const { d, service } = setup();
    service.start();
    await until(() => service.serving('d1') !== undefined);
    const first = service.serving('d1')!.version;
    d.state.data.users!.push(...records('users', 31).slice(30));
    // Due at fullRefreshSeconds ± 10% (jitter): not before 0.9 of it, surely after 1.1.
    const asked = d.state.requests.length;
    clock += 3600_000 * 0.9 - 1;
    await new Promise((r) => setTimeout(r, 60));
    expect(d.state.requests.length).toBe(asked);
    clock += 3600_000 * 0.2 + 2;
    await until(() => service.serving('d1')!.version !== first);
    expect(service.serving('d1')!.counts.users).toBe(31);
  });

  it('after a refused pull shows it, keeps the copy, and tries again only after retryMs', async () => {
    const { d, service } = setup();
    service.start();
    await until(() => service.serving('d1') !== undefined);
    const copy = service.serving('d1')!;
    d.state.data.users = records('users', 5);
    clock += 3600_000 * 1.1 + 1;
    await until(async () => (await service.status('d1')).lastRefusal !== null);
    const status = await service.status('d1');
    expect(status).toMatchObject({ state: 'ready', version: copy.version, lastFullPull: { outcome: 'refused' }, lastRefusal: { reason: expect.stringContaining('users would shrink from 30 to 5') } });
    const asked = d.state.requests.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(d.state.requests.length).toBe(asked);
    // The retry: retryMs ± 10% after the refusal.
    clock += 60_000 * 0.9 - 1;
    await new Promise((r) => setTimeout(r, 60));
    expect(d.state.requests.length).toBe(asked);
    clock += 60_000 * 0.2 + 2;
    await until(() => d.state.requests.length > asked);
  });

  it('shows a district whose first pull failed as failed, without the district address', async () => {
    const { d, service } = setup();
    d.state.fail = () => 503;
    service.start();
    await until(async () => (await service.status('d1')).state === 'failed');
    const status = await service.status('d1');
    expect(status).toMatchObject({ version: null, lastError: { message: 'the district answered HTTP 503' } });
    expect(JSON.stringify(status)).not.toContain('sis.example.test');
  });

  it('a district whose pulls keep failing warns once, not once per retry, and says when it recovers', async () => {
    const { d, service, logs } = setup();
    d.state.fail = () => 503;
    service.start();
    await until(async () => (await service.status('d1')).state === 'failed');
    // Five more retries, each retryMs (± 10%) after the last, each failing the same way.
    for (let i = 0; i < 5; i++) {
      const asked = d.state.requests.length;
      clock += 60_000 * 1.1 + 1;
      await until(() => d.state.requests.length > asked);
      await until(async () => !(await service.status('d1')).pulling);
    }
    const said = () => logs.map((l) => (l as { msg: string }).msg);
    expect(said().filter((m) => m.startsWith('mirror pull'))).toEqual(['mirror pull failed']);
    expect(logs[0]).toMatchObject({ msg: 'mirror pull failed', district: 'd1', cause: expect.stringContaining('503') });
    d.state.fail = undefined;
    clock += 60_000 * 1.1 + 1;
    await until(() => service.serving('d1') !== undefined);
    expect(logs.at(-1)).toMatchObject({ msg: 'mirror published', district: 'd1', failedAttempts: 6 });
    expect(said().filter((m) => m.startsWith('mirror pull'))).toEqual(['mirror pull failed']);
  });

  it("applies a delta sync's changes as a new copy, and moves agreedAt only for a complete run", async () => {
    const { service } = setup();
    await service.refresh('d1').done;
    const before = service.serving('d1')!;
    clock += 1000;
    const changed = { ...records('users', 1)[0]!, givenName: 'Renamed', dateLastModified: new Date(clock).toISOString() };
    await service.delta.changed('d1', 'users', [changed]);
    await service.delta.changed('d1', 'lineItems', [{ sourcedId: 'li-1' }]);
    await service.delta.finished('d1', [{ collection: 'orgs', outcome: 'synced' }, { collection: 'users', outcome: 'failed' }]);
    const after = service.serving('d1')!;
    expect(after.seq).toBe(before.seq + 1);
    expect(after.agreedAt).toBe(before.agreedAt);
    expect((await service.store.get(after, 'users', 'use-0000'))?.givenName).toBe('Renamed');
    clock += 1000;
    await service.delta.finished('d1', [{ collection: 'orgs', outcome: 'synced' }, { collection: 'users', outcome: 'synced' }]);
    expect(service.serving('d1')!).toMatchObject({ seq: after.seq, agreedAt: clock });
  });

  it('starts a full pull when a delta passed its bound (collection-wide), and not for deltas before the first copy', async () => {
    const { d, service } = setup();
    await service.delta.changed('d1', 'users', records('users', 1));
    await service.delta.finished('d1', [{ collection: 'users', outcome: 'synced', collectionWide: true }]);
    expect(d.state.requests.length).toBe(0);
    await service.refresh('d1').done;
    const asked = d.state.requests.length;
    await service.delta.finished('d1', [{ collection: 'users', outcome: 'synced', collectionWide: true }]);
    await until(() => d.state.requests.length > asked);
  });

  it('runs one pull per district at a time: a refresh while one runs joins it', async () => {
    const { d, service } = setup();
    const a = service.refresh('d1');
    const b = service.refresh('d1');
    expect([a.started, b.started]).toEqual([true, false]);
    await Promise.all([a.done, b.done]);
    expect(d.state.requests.filter((r) => r.path.endsWith('/orgs') && !r.query.some(([k]) => k === 'filter')).length).toBe(1);
  });

  it('drops the copy of a district no longer mirrored', async () => {
    const { service, store, mirrored } = setup();
    service.start();
    await until(() => service.serving('d1') !== undefined);
    mirrored.d1 = undefined;
    expect(service.serving('d1')).toBeUndefined();
    await until(async () => (await store.current('d1')) === undefined);
  });

  it('stops a pull in flight at shutdown without publishing it', async () => {
    const state: FakeDistrictState = { data: { orgs: records('orgs', 2), users: records('users', 30) }, requests: [] };
    const slow = fakeDistrict('d1', state);
    const request = slow.upstream.request;
    (slow.upstream as { request: typeof request }).request = (req) =>
      req.path.endsWith('/users')
        ? new Promise((_, reject) => state.requests.push(req) && req.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { code: 'UPSTREAM_ABORTED' }))))
        : request(req);
    const store = createMemoryMirrorStore();
    const service = createMirrorService({ store, districts: createDistrictRegistry([slow]), settings: () => SETTINGS, pageSize: 100, shrinkGuardPercent: () => 20, logger: { info() {}, warn() {} }, now: () => clock });
    const run = service.refresh('d1').done;
    await until(() => state.requests.some((r) => r.path.endsWith('/users')));
    await service.stop();
    expect(await run).toMatchObject({ outcome: 'failed' });
    expect(await store.current('d1')).toBeUndefined();
  });
});
