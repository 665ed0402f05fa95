// A district that sends strings JSON allows but PostgreSQL's jsonb refuses (NUL, lone UTF-16
// surrogates, in values and in keys): the pull publishes on both stores, with U+FFFD in their
// place, rather than failing the whole district on one record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullPull } from '../../src/mirror/full-pull.js';
import { createMemoryMirrorStore } from '../../src/mirror/memory-store.js';
import { createPostgresMirrorStore } from '../../src/mirror/postgres-store.js';
import type { MirrorStore } from '../../src/mirror/types.js';
import { district, records } from './fake-district.js';
import { freshDatabase, postgresUrl, type TestDatabase } from './postgres-env.js';

const url = postgresUrl();
let db: TestDatabase | undefined;
beforeAll(async () => {
  if (url) db = await freshDatabase(url);
});
afterAll(async () => db?.dispose());

const stores: Array<[string, () => Promise<MirrorStore>]> = [
  ['memory', async () => createMemoryMirrorStore()],
  ...(url ? [['postgres', () => createPostgresMirrorStore({ url: db!.url })] as [string, () => Promise<MirrorStore>]] : []),
];

describe.each(stores)('hostile strings from a district (%s store)', (_name, make) => {
  it('publishes the pull with NUL and lone surrogates replaced by U+FFFD, in values and keys', async () => {
    const users = records('users', 3, (i) =>
      i === 1 ? { givenName: 'Ann\u0000a', familyName: 'Lone\uD800', middleName: '\uDC00x', metadata: { 'k\u0000ey': 'v', emoji: 'ok \uD83D\uDE00' } } : {},
    );
    const d = district({ orgs: records('orgs', 1), users });
    const store = await make();
    try {
      const report = await fullPull({ district: d.district, store, collections: ['orgs', 'users'], pageSize: 10, shrinkGuardPercent: 20, now: () => Date.now() });
      expect(report.outcome).toBe('published');
      const u = (await store.get(report.copy!, 'users', 'use-0001'))!;
      expect(u).toMatchObject({ givenName: 'Ann\uFFFDa', familyName: 'Lone\uFFFD', middleName: '\uFFFDx', metadata: { 'k\uFFFDey': 'v', emoji: 'ok \uD83D\uDE00' } });
    } finally {
      await store.close();
    }
  });
});
