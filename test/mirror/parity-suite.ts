// The parity suite, run on each store (parity.test.ts: memory; parity-postgres.test.ts):
// the mirror answers what the district would: one query battery (parity-battery.ts) asked of a
// 1.1 and a 1.2 sandbox district through their mirrors, compared with
// - the district itself, asked directly, for paths of its own version;
// - the same gateway without the mirror (a second entry on the same sandbox, answered by the
//   version bridge), for paths of the other version;
// and, for the whole battery, no request reaching either district while the mirror answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Version } from '../../src/core/oneroster/endpoints.js';
import type { TestSandbox } from '../../src/sandbox/testing.js';
import { startBearer, type Got } from '../sandbox/helpers.js';
import { answerOf, difference, type Rooting } from './parity-compare.js';
import { battery, pick, type Picks } from './parity-battery.js';
import { direct, startParityGateway, versionPath, type ParityGateway } from './parity-stack.js';

interface Side {
  version: Version;
  sandbox: TestSandbox;
  /** The mirrored district entry, and the plain one on the same sandbox. */
  mirrored: string;
  plain: string;
  picks: Picks;
}

const OTHER: Record<Version, Version> = { v1p1: 'v1p2', v1p2: 'v1p1' };

/** Defines the suite for the mirror on `store` (a postgres:// URL, or the memory store when absent). */
export function paritySuite(store?: () => string): void {
  let gw: ParityGateway;
  const sides = {} as Record<Version, Side>;
  /** Mirror answers by district and path (`/v1p1/users?...`), all read before the districts were asked anything. */
  const mirrored = new Map<string, Got>();
  const hitsWhileMirroring: Record<string, number> = {};

  /** Runs `fn` over `items`, `width` at a time. */
  async function pool<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const out: R[] = new Array(items.length);
    let next = 0;
    await Promise.all(Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }));
    return out;
  }

  /** Every path of the battery a side is asked (paths of `version`, with that side's ids). */
  const pathsOf = (side: Side, version: Version) => battery(version, side.picks).map((p) => `${versionPath(version)}${p}`);

  beforeAll(async () => {
    const s11 = await startBearer({ version: 'v1p1', users: 300, seed: 11 });
    const s12 = await startBearer({ version: 'v1p2', users: 400, seed: 29 });
    sides.v1p1 = { version: 'v1p1', sandbox: s11, mirrored: 'm11', plain: 'p11', picks: pick(s11.store) };
    sides.v1p2 = { version: 'v1p2', sandbox: s12, mirrored: 'm12', plain: 'p12', picks: pick(s12.store) };
    gw = await startParityGateway(
      Object.values(sides).flatMap((s) => [
        { id: s.mirrored, version: s.version, baseUrl: s.sandbox.baseUrl, mirror: true },
        { id: s.plain, version: s.version, baseUrl: s.sandbox.baseUrl, mirror: false },
      ]),
      store?.(),
    );
    for (const s of Object.values(sides)) s.sandbox.resetHits();
    for (const s of Object.values(sides)) {
      const paths = [...pathsOf(s, s.version), ...pathsOf(s, OTHER[s.version])];
      const answers = await pool(paths, 12, (p) => gw.get(s.mirrored, p));
      paths.forEach((p, i) => mirrored.set(`${s.mirrored} ${p}`, answers[i]!));
    }
    for (const s of Object.values(sides)) hitsWhileMirroring[s.mirrored] = s.sandbox.hitCount();
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    await Promise.all(Object.values(sides).map((s) => s.sandbox.close()));
  });

  describe('the mirror answers the whole battery by itself', () => {
    it('sends no request to either district and marks every answer X-Cache: MIRROR', () => {
      expect(hitsWhileMirroring).toEqual({ m11: 0, m12: 0 });
      const unmarked = [...mirrored].filter(([, got]) => got.headers.get('x-cache') !== 'MIRROR').map(([k, got]) => `${k} -> ${got.status} ${got.headers.get('x-cache')}`);
      expect(unmarked).toEqual([]);
      // Most of the battery lists something: a parity of empty answers would prove little.
      const nonEmpty = [...mirrored.values()].filter((g) => g.status === 200 && Object.values(g.body as object).some((v) => !Array.isArray(v) || v.length > 0));
      expect(nonEmpty.length).toBeGreaterThan(mirrored.size * 0.7);
    });
  });

  describe.each(['v1p1', 'v1p2'] as const)('a %s district', (version) => {
    it('answers paths of its own version as the district itself does', async () => {
      const side = sides[version];
      const paths = pathsOf(side, version);
      // The district's hrefs and links name its own root; the mirror's the gateway's root for it.
      const rooting: Rooting = [[side.sandbox.baseUrl, gw.root(side.mirrored)]];
      const expected = await pool(paths, 12, (p) => direct(side.sandbox, p));
      const mismatches = paths.flatMap((p, i) => difference(p, answerOf(expected[i]!, rooting), answerOf(mirrored.get(`${side.mirrored} ${p}`)!, [])) ?? []);
      expect(mismatches).toEqual([]);
      expect(paths.length).toBeGreaterThan(300);
    });

    it(`answers paths of ${OTHER[version]} as the gateway without the mirror does`, async () => {
      const side = sides[version];
      const paths = pathsOf(side, OTHER[version]);
      const rooting: Rooting = [[gw.root(side.plain), gw.root(side.mirrored)]];
      const expected = await pool(paths, 12, (p) => gw.get(side.plain, p));
      const mismatches = paths.flatMap((p, i) => difference(p, answerOf(expected[i]!, rooting), answerOf(mirrored.get(`${side.mirrored} ${p}`)!, [])) ?? []);
      expect(mismatches).toEqual([]);
    });
  });
}
