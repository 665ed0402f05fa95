// The PostgreSQL mirror store: the shared contract, then what only a shared database can show:
// two replicas on one database, dead backends, interrupted publishes, concurrent start-ups,
// the statement timeout, and that queries really run in SQL (and on the indexes).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseFilter } from '../../src/core/oneroster/filter.js';
import type { Json } from '../../src/core/oneroster/mapping/types.js';
import { pushedQuery } from '../../src/mirror/postgres-query.js';
import { MIGRATIONS } from '../../src/mirror/postgres-schema.js';
import { createPostgresMirrorStore, type PostgresMirrorStore, type PostgresMirrorStoreOptions } from '../../src/mirror/postgres-store.js';
import type { CopyMeta, MirrorStore } from '../../src/mirror/types.js';
import { freePort } from '../cache/redis-server.js';
import { freshDatabase, postgresUrl, withDatabase, type TestDatabase } from './postgres-env.js';
import { ENROLLMENT_FILTERS, makeOddRecords, makeRecords, randomCase, storeContract, USER_FILTERS } from './store-contract.js';

const url = postgresUrl();
const AT = 1_700_000_000_000;
let n = 0;
const district = () => `pg-${process.pid}-${++n}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('createPostgresMirrorStore options', () => {
  const bad: Array<[Partial<PostgresMirrorStoreOptions>, RegExp]> = [
    [{ url: 'mysql://u:hunter2@db.example/x' }, /options\.url/],
    [{ url: 'not a url hunter2' }, /options\.url/],
    [{ url: undefined as unknown as string }, /options\.url/],
    [{ url: 'postgres://u:hunter2@db.example/x', poolSize: 0 }, /options\.poolSize/],
    [{ url: 'postgres://u:hunter2@db.example/x', poolSize: 101 }, /options\.poolSize/],
    [{ url: 'postgres://u:hunter2@db.example/x', poolSize: 2.5 }, /options\.poolSize/],
    [{ url: 'postgresql://u:hunter2@db.example/x', statementTimeoutMs: 0 }, /options\.statementTimeoutMs/],
  ];
  it.each(bad)('refuses %j naming the option, without the password', async (options, message) => {
    const err = await createPostgresMirrorStore(options as PostgresMirrorStoreOptions).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('fails at creation on an unreachable server, without the password in the error', async () => {
    const port = await freePort();
    const err = await createPostgresMirrorStore({ url: `postgres://orgw:s3cr%40t-pw@127.0.0.1:${port}/mirror` }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const text = `${(err as Error).message} ${(err as Error).stack}`;
    expect(text).toContain(`127.0.0.1:${port}`);
    expect(text).not.toMatch(/s3cr/);
  });
});

describe.skipIf(!url)('PostgreSQL mirror store', () => {
  let db: TestDatabase;
  const stores: MirrorStore[] = [];
  const open = async (extra: Partial<PostgresMirrorStoreOptions> = {}): Promise<PostgresMirrorStore> => {
    const s = await createPostgresMirrorStore({ url: db.url, ...extra });
    stores.push(s);
    return s;
  };
  beforeAll(async () => {
    db = await freshDatabase(url!);
  });
  afterAll(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close().catch(() => undefined)));
    await db?.dispose();
  });

  storeContract('postgres', (o) => createPostgresMirrorStore({ url: db.url, poolSize: 4, ...o }));

  async function publish(s: MirrorStore, d: string, users: Json[], at = AT): Promise<CopyMeta> {
    const staged = await s.stage(d);
    await staged.add('users', users);
    return staged.publish({ recordsVersion: 'v1p1', at });
  }

  it('fails at creation on a database that does not exist, without the password', async () => {
    const u = new URL(withDatabase(url!, 'orgw_no_such_db'));
    u.password = 'pw-hunter2';
    const err = await createPostgresMirrorStore({ url: u.toString() }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/orgw_no_such_db/);
    expect((err as Error).message).not.toContain('hunter2');
  });

  describe('two replicas on one database', () => {
    it('runs exactly one of two concurrent pulls of a district', async () => {
      const [a, b] = [await open(), await open()];
      const d = district();
      const ran: string[] = [];
      const pull = (s: MirrorStore, name: string) =>
        s.withPullLock(d, async () => {
          ran.push(name);
          await sleep(300);
          return name;
        });
      const results = await Promise.all([pull(a, 'a'), pull(b, 'b'), pull(a, 'a2'), pull(b, 'b2')]);
      expect(results.filter((r) => r.ran)).toHaveLength(1);
      expect(ran).toHaveLength(1);
      expect(await b.withPullLock(d, async () => 'later')).toEqual({ ran: true, value: 'later' });
    });

    it('loses the lock when its backend dies, so another replica can pull', async () => {
      const warn = vi.fn();
      const a = await open({ logger: { warn } });
      const b = await open();
      const d = district();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const holder = a.withPullLock(d, () => gate.then(() => 'a finished'));
      const admin = db.admin();
      const pid = await waitFor(async () => {
        const rows = await admin`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                                  AND pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = 'oneroster-gateway mirror pull lock')`;
        return rows[0]?.pid as number | undefined;
      }, 'the pull lock');
      expect(await b.withPullLock(d, async () => 'b')).toEqual({ ran: false });
      await admin`SELECT pg_terminate_backend(${pid})`;
      await waitFor(async () => (warn.mock.calls.length > 0 ? true : undefined), 'the lost-lock warning');
      expect(await b.withPullLock(d, async () => 'b took it')).toEqual({ ran: true, value: 'b took it' });
      release();
      expect(await holder).toEqual({ ran: true, value: 'a finished' });
      expect(JSON.stringify(warn.mock.calls)).toContain(d);
    });

    it('leaves the previous copy whole when a publish dies before its commit', async () => {
      const a = await open();
      const d = district();
      const before = Array.from({ length: 300 }, (_, i) => ({ sourcedId: `u${i}`, v: 1 }));
      const c1 = await publish(a, d, before);
      const staged = await a.stage(d);
      await staged.add('users', Array.from({ length: 5000 }, (_, i) => ({ sourcedId: `u${i}`, v: 2 })));
      const admin = db.admin();
      // Hold back the copy row: the publish writes its record rows, then waits here until killed.
      const blocker = admin.begin(async (tx) => {
        await tx`LOCK TABLE mirror_copies IN SHARE MODE`;
        const publishing = staged.publish({ recordsVersion: 'v1p1', at: AT + 1 });
        const pid = await waitFor(async () => {
          const rows = await admin`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO mirror_copies%'`;
          return rows[0]?.pid as number | undefined;
        }, 'the publish to wait on its lock');
        await admin`SELECT pg_terminate_backend(${pid})`;
        await expect(publishing).rejects.toThrow();
      });
      await blocker;
      const b = await open();
      for (const s of [a, b]) {
        expect(await s.current(d)).toEqual(c1);
        const page = await s.query(c1, { collection: 'users', offset: 0, limit: 10_000 });
        expect(page.total).toBe(300);
        expect(page.records.every((r) => r.v === 1)).toBe(true);
      }
      const [rows] = await admin`SELECT count(*)::int AS n, max(valid_from) AS top FROM mirror_records WHERE district = ${d}`;
      expect(rows).toEqual({ n: 300, top: 1 });
      const c2 = await publish(b, d, [{ sourcedId: 'fresh' }]);
      expect(c2.seq).toBe(2);
    });

    it('discards the staging of a puller that died, and the next stage clears it', async () => {
      const a = await open();
      const d = district();
      const c1 = await publish(a, d, [{ sourcedId: 'kept' }]);
      const staged = await a.stage(d);
      await staged.add('users', Array.from({ length: 50 }, (_, i) => ({ sourcedId: `half-${i}` })));
      await a.close();
      const b = await open();
      expect(await b.current(d)).toEqual(c1);
      expect((await b.query(c1, { collection: 'users', offset: 0, limit: 100 })).records).toEqual([{ sourcedId: 'kept' }]);
      const admin = db.admin();
      const count = async () => (await admin`SELECT count(*)::int AS n FROM mirror_staging WHERE district = ${d}`)[0]!.n as number;
      expect(await count()).toBe(50);
      const next = await b.stage(d);
      expect(await count()).toBe(0);
      await next.abort();
    });
  });

  it('migrates once when several stores start at once, sharing one epoch', async () => {
    const fresh = await freshDatabase(url!);
    try {
      const many = await Promise.all(Array.from({ length: 4 }, () => createPostgresMirrorStore({ url: fresh.url, poolSize: 2 })));
      const again = await createPostgresMirrorStore({ url: fresh.url, poolSize: 1 });
      const admin = fresh.admin();
      const versions = await admin`SELECT version FROM mirror_schema_version ORDER BY version`;
      expect(versions.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      const copy = await publish(many[0]!, 'd', [{ sourcedId: 'u' }]);
      for (const s of [...many, again]) expect(await s.current('d')).toEqual(copy);
      await Promise.all([...many, again].map((s) => s.close()));
    } finally {
      await fresh.dispose();
    }
  });

  it('migrates a database made by the first release: GUIDRef indexes end in sourced_id, non-string GUIDRef ids are flagged', async () => {
    const fresh = await freshDatabase(url!);
    try {
      const admin = fresh.admin();
      await admin.begin(async (tx) => {
        await tx`CREATE TABLE mirror_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
        for (const statement of MIGRATIONS[0]!.statements) await tx.unsafe(statement);
        await tx`INSERT INTO mirror_schema_version (version) VALUES (1)`;
      });
      await admin`INSERT INTO mirror_sequences (district, last_seq) VALUES ('d', 1)`;
      await admin`INSERT INTO mirror_copies VALUES ('d', 1, 'v1p1', 0, 0, '{"enrollments": 2}')`;
      await admin`INSERT INTO mirror_records (district, collection, sourced_id, valid_from, hash, flags, doc) VALUES
        ('d', 'enrollments', 'e1', 1, gen_random_uuid(), 0, '{"sourcedId": "e1", "class": {"sourcedId": 7}}'),
        ('d', 'enrollments', 'e2', 1, gen_random_uuid(), 0, '{"sourcedId": "e2", "class": {"sourcedId": "7"}}')`;
      const s = await createPostgresMirrorStore({ url: fresh.url, poolSize: 1 });
      const flags = await admin`SELECT sourced_id, flags FROM mirror_records ORDER BY sourced_id`;
      expect(flags.map((r) => [r.sourced_id, r.flags])).toEqual([['e1', 8], ['e2', 0]]);
      const [index] = await admin`SELECT pg_get_indexdef('mirror_records_class_ref'::regclass) AS def`;
      expect(index!.def).toMatch(/ref_class, sourced_id\) INCLUDE \(.*\) WHERE/);
      const copy = (await s.current('d'))!;
      const page = await s.query(copy, { collection: 'enrollments', where: parseFilter("class.sourcedId='7'"), offset: 0, limit: 10 });
      expect(page.records.map((r) => r.sourcedId)).toEqual(['e1', 'e2']);
      await s.close();
    } finally {
      await fresh.dispose();
    }
  });

  it('bounds every statement by statementTimeoutMs', async () => {
    const s = await open({ statementTimeoutMs: 300 });
    const admin = db.admin();
    await admin.begin(async (tx) => {
      await tx`LOCK TABLE mirror_copies IN ACCESS EXCLUSIVE MODE`;
      const started = Date.now();
      await expect(s.current(district())).rejects.toThrow(/statement timeout/);
      expect(Date.now() - started).toBeLessThan(5_000);
    });
    expect(await s.current(district())).toBeUndefined();
  });

  it('writes only rows whose content changed, and keeps the copy before the current one readable', async () => {
    const clock = { t: AT + 500 };
    const s = await open({ now: () => clock.t, retention: { snapshotMs: 1000 } });
    const d = district();
    const users = Array.from({ length: 100 }, (_, i) => ({ sourcedId: `u${String(i).padStart(3, '0')}`, name: `n${i}` }));
    const c1 = await publish(s, d, users);
    const changed = [...users.slice(2), { sourcedId: 'u000', name: 'renamed' }, { sourcedId: 'u999', name: 'new' }].map((u) => ({ ...u }));
    const c2 = await publish(s, d, changed, AT + 1);
    const admin = db.admin();
    const rows = await admin`SELECT valid_from, valid_to, count(*)::int AS n FROM mirror_records WHERE district = ${d} GROUP BY 1, 2 ORDER BY 1, 2`;
    expect(rows.map((r) => [r.valid_from, r.valid_to, r.n])).toEqual([[1, 2, 2], [1, null, 98], [2, null, 2]]);
    // The copy before the current one still reads as it was (a client paging it finishes on it).
    expect(await s.get(c1, 'users', 'u000')).toEqual({ sourcedId: 'u000', name: 'n0' });
    expect(await s.get(c1, 'users', 'u001')).toEqual({ sourcedId: 'u001', name: 'n1' });
    expect(await s.get(c2, 'users', 'u001')).toBeUndefined();
    expect((await s.query(c1, { collection: 'users', offset: 0, limit: 1000 })).total).toBe(100);
    expect(await s.copy(d, c1.version)).toEqual({ ...c1, supersededAt: c2.publishedAt });
    expect(await s.apply(d, [{ collection: 'users', upserts: changed.slice(0, 10) }], AT + 2)).toBeUndefined();
    // Past the snapshot retention of c1 (superseded at AT + 1), within c2's (superseded now).
    clock.t = AT + 3500;
    const c3 = await s.apply(d, [{ collection: 'users', upserts: [{ sourcedId: 'u999', name: 'newer' }] }], AT + 3000);
    expect(c3?.seq).toBe(3);
    expect(await s.copy(d, c1.version)).toBeUndefined();
    expect((await s.query(c1, { collection: 'users', offset: 0, limit: 1000 })).total).toBe(0);
    expect(await s.get(c2, 'users', 'u999')).toEqual({ sourcedId: 'u999', name: 'new' });
    const left = await admin`SELECT count(*)::int AS n FROM mirror_records WHERE district = ${d} AND valid_to IS NOT NULL AND valid_to <= 2`;
    expect(left[0]!.n).toBe(0);
  });

  it('answers realistic filters wholly in SQL, and finishes in JavaScript only for records SQL could misjudge', async () => {
    const s = await open();
    const data = makeRecords(7);
    const icu = (await db.admin()`SELECT count(*)::int AS n FROM pg_collation WHERE collname = 'und-x-icu'`)[0]!.n > 0;
    const copy = await (async () => {
      const staged = await s.stage(district());
      await staged.add('users', data.users);
      await staged.add('enrollments', data.enrollments);
      return staged.publish({ recordsVersion: 'v1p1', at: AT });
    })();
    for (const text of USER_FILTERS) await s.query(copy, { collection: 'users', where: parseFilter(text), sort: 'familyName', offset: 0, limit: 50 });
    for (const text of ENROLLMENT_FILTERS) await s.query(copy, { collection: 'enrollments', where: parseFilter(text), offset: 0, limit: 50 });
    expect(s.queryPaths()).toEqual({ pushed: USER_FILTERS.length + ENROLLMENT_FILTERS.length, js: icu ? 0 : USER_FILTERS.filter((f) => f.includes('~')).length });

    const random = randomCase(99, 200, 200);
    const randomCopy = await publish(s, district(), random.records);
    const pushedBefore = s.queryPaths().pushed;
    // Sorts by a field holding numbers and strings are left out: sortRecords orders those by its own
    // (non-transitive) comparison, which JavaScript does apply.
    for (const q of random.queries) await s.query(randomCopy, { ...q, collection: 'users', sort: undefined, desc: undefined });
    expect(s.queryPaths()).toMatchObject({ pushed: pushedBefore + random.queries.length, js: icu ? 0 : expect.any(Number) });
    await s.query(randomCopy, { collection: 'users', sort: 'a', offset: 0, limit: 10 });
    expect(s.queryPaths().js).toEqual(icu ? 1 : expect.any(Number));

    // Characters above U+FFFF alone (an emoji in a name) order the same by code point and by code unit.
    const emoji = await publish(s, district(), [...data.users.slice(0, 50), { sourcedId: 'e-\u{1F600}', givenName: 'Zoë 😀' }]);
    const before = s.queryPaths().js;
    expect(before).toEqual(icu ? 1 : expect.any(Number));
    await s.query(emoji, { collection: 'users', where: parseFilter("givenName>'Z'"), sort: 'givenName', offset: 0, limit: 50 });
    await s.query(emoji, { collection: 'users', offset: 0, limit: 50 });
    expect(s.queryPaths().js).toBe(before);

    const odd = await publish(s, district(), makeOddRecords().users);
    await s.query(odd, { collection: 'users', where: parseFilter("grades='10'"), offset: 0, limit: 50 });
    expect(s.queryPaths().js).toBe(before + 1);
  });

  it('can serve GUIDRef lookups from the indexes', async () => {
    const s = await open();
    const d = district();
    const staged = await s.stage(d);
    const enrollments = Array.from({ length: 20_000 }, (_, i) => ({
      sourcedId: `e${i}`,
      class: { href: '/classes/x', sourcedId: `class-${i % 2000}`, type: 'class' },
      user: { href: '/users/x', sourcedId: `u${i}`, type: 'user' },
      orgs: [{ sourcedId: `org-${i % 500}`, type: 'org' }],
      school: { sourcedId: `school-${i % 4}`, type: 'org' },
    }));
    await staged.add('enrollments', enrollments);
    await staged.add('users', Array.from({ length: 20_000 }, (_, i) => ({ sourcedId: `u${i}` })));
    const copy = await staged.publish({ recordsVersion: 'v1p1', at: AT });
    const admin = db.admin();
    const plan = async (text: string, offset = 0) => {
      const q = pushedQuery({ icu: true }, copy, { collection: 'enrollments', where: parseFilter(text), offset, limit: 100 })!;
      const lines = await admin.unsafe(`EXPLAIN ${q.text}`, q.values);
      return lines.map((l) => l['QUERY PLAN'] as string).join('\n');
    };
    expect(await plan("class.sourcedId='class-7'")).toContain('mirror_records_class_ref');
    expect(await plan("user.sourcedId='u7' AND class.sourcedId='class-7'")).toMatch(/mirror_records_(user|class)_ref/);
    expect(await plan("orgs.sourcedId='org-7'")).toContain('mirror_records_doc');
    expect((await s.query(copy, { collection: 'enrollments', where: parseFilter("class.sourcedId='class-7'"), offset: 0, limit: 100 })).total).toBe(10);
    // A class's users through its enrollments: the ids come from the class index alone (the
    // publish vacuumed, so heap pages are not read to check visibility).
    const via = { collection: 'enrollments' as const, where: parseFilter("class.sourcedId='class-7'"), pick: 'user' as const };
    const joined = pushedQuery({ icu: true }, copy, { collection: 'users', via, offset: 0, limit: 10 })!;
    const analyzed = (await admin.unsafe(`EXPLAIN (ANALYZE) ${joined.text}`, joined.values)).map((l) => l['QUERY PLAN'] as string).join('\n');
    const lines = analyzed.split('\n');
    const at = lines.findIndex((l) => l.includes('Index Only Scan using mirror_records_class_ref'));
    expect(at, analyzed).toBeGreaterThanOrEqual(0);
    expect(lines[at]).not.toContain('never executed');
    // Pages written since the vacuum (another test's district) may still need a look: most may not.
    const fetched = Number(/Heap Fetches: (\d+)/.exec(lines.slice(at + 1, at + 5).join('\n'))?.[1]);
    const read = Number(/actual time=\S+ rows=(\d+)/.exec(lines[at]!)?.[1]);
    expect({ read, fetched: fetched <= read / 2 }, analyzed).toEqual({ read: 10, fetched: true });
    // A school's 5,000 enrollments at an offset: read in sourcedId order from the index, never sorted.
    const deep = await plan("school.sourcedId='school-1'", 3000);
    expect(deep).toContain('mirror_records_school_ref');
    expect(deep).not.toMatch(/\bSort\b/);
    const page = await s.query(copy, { collection: 'enrollments', where: parseFilter("school.sourcedId='school-1'"), offset: 3000, limit: 100 });
    const want = enrollments.filter((e) => e.school.sourcedId === 'school-1').map((e) => e.sourcedId).sort().slice(3000, 3100);
    expect({ total: page.total, ids: page.records.map((r) => r.sourcedId) }).toEqual({ total: 5000, ids: want });
  });

  it('asks again without GUIDRef hints once a collection holds a GUIDRef whose sourcedId is no string', async () => {
    const s = await open();
    const d = district();
    const staged = await s.stage(d);
    const enrollments = [
      { sourcedId: 'e1', class: { sourcedId: 'c1' } },
      { sourcedId: 'e2', class: { sourcedId: 7 } },
      { sourcedId: 'e3', class: { sourcedId: { odd: true } } },
      { sourcedId: 'e4', class: { sourcedId: '7' } },
    ];
    await staged.add('enrollments', enrollments);
    const copy = await staged.publish({ recordsVersion: 'v1p1', at: AT });
    for (const [text, ids] of [["class.sourcedId='7'", ['e2', 'e4']], ["class.sourcedId='c1'", ['e1']], [`class.sourcedId='{"odd":true}'`, []]] as const) {
      const page = await s.query(copy, { collection: 'enrollments', where: parseFilter(text), offset: 0, limit: 10 });
      expect({ text, ids: page.records.map((r) => r.sourcedId) }).toEqual({ text, ids });
    }
  });
});
