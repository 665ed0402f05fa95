// The mirror store contract against the in-process store, and its memory bound.
import { describe, expect, it } from 'vitest';
import type { Json } from '../../src/core/oneroster/mapping/types.js';
import { createMemoryMirrorStore } from '../../src/mirror/memory-store.js';
import { MirrorFullError, type MirrorStore } from '../../src/mirror/types.js';
import { storeContract } from './store-contract.js';

storeContract('memory', async (o) => createMemoryMirrorStore(o));

describe('the memory store bound', () => {
  const users = (tag: string) => Array.from({ length: 100 }, (_, i) => ({ sourcedId: `u${String(i).padStart(3, '0')}`, givenName: `${tag}-${'x'.repeat(60)}` }));
  const publish = async (s: MirrorStore, d: string, records: Json[], at: number) => {
    const staged = await s.stage(d);
    await staged.add('users', records);
    return staged.publish({ recordsVersion: 'v1p1', at });
  };

  it('drops copies kept only for pinned reads before it refuses a pull, and refuses one that still does not fit', async () => {
    const probe = createMemoryMirrorStore();
    await publish(probe, 'd', users('a'), 1);
    const copyBytes = probe.bytes();
    // Room for the current copy, its change log and a pull, not also for the copy kept for pins.
    const s = createMemoryMirrorStore({ maxBytes: Math.floor(copyBytes * 2.5), now: () => 10 });
    const c1 = await publish(s, 'd', users('a'), 1);
    const c2 = await publish(s, 'd', users('b'), 2);
    expect(await s.copy('d', c1.version)).toMatchObject({ supersededAt: 2 });
    expect(s.bytes()).toBeGreaterThan(copyBytes);
    const c3 = await publish(s, 'd', users('c'), 3);
    expect(await s.copy('d', c1.version)).toBeUndefined();
    expect((await s.copy('d', c3.version))?.seq).toBe(c2.seq + 1);
    const big = await s.stage('d');
    await expect(big.add('users', [...users('d'), ...users('e').map((u) => ({ ...u, sourcedId: `z${u.sourcedId}` }))])).rejects.toBeInstanceOf(MirrorFullError);
    expect((await s.current('d'))?.version).toBe(c3.version);
  });

  it('shares the records a refresh brought back unchanged with the copy before it', async () => {
    const s = createMemoryMirrorStore({ now: () => 10 });
    const c1 = await publish(s, 'd', users('a'), 1);
    const again = users('a').map((u, i) => (i === 5 ? { ...u, givenName: 'changed' } : { ...u }));
    const c2 = await publish(s, 'd', again, 2);
    expect(await s.get(c2, 'users', 'u000')).toBe(await s.get(c1, 'users', 'u000'));
    expect(await s.get(c2, 'users', 'u005')).not.toBe(await s.get(c1, 'users', 'u005'));
    expect((await s.get(c2, 'users', 'u005'))?.givenName).toBe('changed');
    expect((await s.changeLog('d'))?.last?.changed).toEqual({ users: { created: 0, updated: 1, deleted: 0 } });
  });
});
