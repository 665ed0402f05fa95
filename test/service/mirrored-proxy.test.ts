// The mirrored proxy when a district's copy cannot be read: reads go on to the page cache, the copy
// is not tried again for a while (a store that hangs would hold every read for its timeout), one
// line says it started and one that it ended, and a refusal of the copy itself is not an outage.
// End to end with a real PostgreSQL: test/gateway/mirror-postgres-down.test.ts.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/errors.js';
import type { CachedProxy, CachedProxyRequest, CachedProxyResponse } from '../../src/service/cached-proxy.js';
import type { MirrorReads } from '../../src/service/mirror-reads.js';
import { createMirroredProxy, UNREADABLE_RETRY_MS } from '../../src/service/mirrored-proxy.js';

const copy = { district: 'd1', version: 'v.1', agreedAt: 0 };
const request = (district = 'd1') => ({ district: { id: district }, query: { params: [] }, clientRoot: 'r', hrefBase: 'r' }) as unknown as CachedProxyRequest;
const page = (cache: string): CachedProxyResponse => ({ status: 200, headers: {}, body: Buffer.from('{}'), cache }) as unknown as CachedProxyResponse;

function setup(answer: () => Promise<unknown>) {
  let clock = 1_000_000;
  const calls = { store: 0, inner: 0 };
  const lines: string[] = [];
  const reads = {
    servable: () => copy,
    mirroredRoute: () => true,
    answer: () => (calls.store++, answer()),
  } as unknown as MirrorReads;
  const inner = { handle: async () => (calls.inner++, page('MISS')), freshHit: () => undefined, stats: () => ({}) } as unknown as CachedProxy;
  const proxy = createMirroredProxy({
    inner,
    reads,
    now: () => clock,
    onUnreadable: (d) => lines.push(`unreadable ${d}`),
    onReadable: (d) => lines.push(`readable ${d}`),
  });
  return { proxy, calls, lines, tick: (ms: number) => (clock += ms) };
}

describe('mirrored proxy, copy unreadable', () => {
  it('answers from the page cache, skips the copy for a while, then tries it once more', async () => {
    let down = true;
    const s = setup(async () => {
      if (down) throw Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' });
      return page('MIRROR');
    });
    expect((await s.proxy.handle(request())).cache).toBe('MISS');
    expect(s.calls).toEqual({ store: 1, inner: 1 });
    // Within the pause: not tried again.
    for (let i = 0; i < 5; i++) expect((await s.proxy.handle(request())).cache).toBe('MISS');
    expect(s.calls).toEqual({ store: 1, inner: 6 });
    // After it: tried once; still down, another pause.
    s.tick(UNREADABLE_RETRY_MS);
    await s.proxy.handle(request());
    await s.proxy.handle(request());
    expect(s.calls).toEqual({ store: 2, inner: 8 });
    // Back: the copy answers again.
    down = false;
    s.tick(UNREADABLE_RETRY_MS);
    expect((await s.proxy.handle(request())).cache).toBe('MIRROR');
    expect(s.calls).toEqual({ store: 3, inner: 8 });
    expect(s.lines).toEqual(['unreadable d1', 'readable d1']);
  });

  it("keeps one district's outage to itself", async () => {
    const s = setup(async () => {
      throw new Error('down');
    });
    await s.proxy.handle(request('d1'));
    await s.proxy.handle(request('d2'));
    expect(s.calls).toEqual({ store: 2, inner: 2 });
    expect(s.lines).toEqual(['unreadable d1', 'unreadable d2']);
  });

  it('passes a refusal of the copy (an unknown object) on, and never falls back for it', async () => {
    const s = setup(async () => {
      throw new GatewayError('not_found', 'District "d1" has no user "x".');
    });
    await expect(s.proxy.handle(request())).rejects.toMatchObject({ code: 'not_found', headers: { 'x-cache': 'MIRROR' } });
    await expect(s.proxy.handle(request())).rejects.toMatchObject({ code: 'not_found' });
    expect(s.calls).toEqual({ store: 2, inner: 0 });
    expect(s.lines).toEqual([]);
  });
});
