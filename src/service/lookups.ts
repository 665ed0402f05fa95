import { refId, type MapContext, type MapNeeds } from '../core/oneroster/mapping/index.js';
import { versionRoot } from '../core/oneroster/paths.js';
import { encodeRfc3986 } from '../core/rfc3986.js';
import type { UpstreamCalls } from './upstream-calls.js';
import { parseJson } from './upstream-errors.js';

// Facts a mapping needs that the record does not carry: an org's type (1.1 `administrator`
// becomes district- or siteAdministrator by it) and a class's school (required on 1.2 line
// items). They almost never change, so each is fetched once per district and remembered;
// a failed lookup is not remembered, and the mapping falls back to its default.

interface Remembered {
  value: string | undefined;
  until: number;
}

export interface LookupsOptions {
  /** Most facts remembered, all districts together. */
  max?: number;
  ttlMs?: number;
  now?: () => number;
}

export function createLookups(options: LookupsOptions = {}) {
  const max = options.max ?? 50_000;
  const ttlMs = options.ttlMs ?? 60 * 60_000;
  const now = options.now ?? Date.now;
  const memo = new Map<string, Remembered>();

  function remember(key: string, value: string | undefined): void {
    if (memo.size >= max) memo.delete(memo.keys().next().value!);
    memo.set(key, { value, until: now() + ttlMs });
  }

  function recall(key: string): Remembered | undefined {
    const hit = memo.get(key);
    if (hit && hit.until > now()) return hit;
    if (hit) memo.delete(key);
    return undefined;
  }

  async function fetchFact(calls: UpstreamCalls, districtId: string, key: string, path: string, read: (o: Record<string, unknown>) => unknown): Promise<void> {
    try {
      const res = await calls.send([], undefined, path);
      const parsed = parseJson(res.body);
      const body = parsed.ok && parsed.value && typeof parsed.value === 'object' ? (parsed.value as Record<string, unknown>) : {};
      const record = Object.values(body).find((v) => v && typeof v === 'object' && !Array.isArray(v)) as Record<string, unknown> | undefined;
      const value = record ? read(record) : undefined;
      remember(`${districtId}\u0000${key}`, typeof value === 'string' ? value : undefined);
    } catch (err) {
      // 404: the district does not know it; remember that. Anything else: try again next time.
      if ((err as { status?: number }).status === 404) remember(`${districtId}\u0000${key}`, undefined);
    }
  }

  return {
    /** Looks up what `needs` names (in parallel; the district's limiter bounds it) and returns the mapping context. */
    async context(calls: UpstreamCalls, districtId: string, version: 'v1p1' | 'v1p2', hrefBase: string, needs: MapNeeds): Promise<MapContext> {
      const root = versionRoot(version, 'rostering');
      const jobs: Promise<void>[] = [];
      for (const id of needs.orgs) {
        const key = `org:${id}`;
        if (!recall(`${districtId}\u0000${key}`)) jobs.push(fetchFact(calls, districtId, key, `${root}/orgs/${encodeRfc3986(id)}`, (o) => o.type));
      }
      for (const id of needs.classes) {
        const key = `class:${id}`;
        if (!recall(`${districtId}\u0000${key}`)) jobs.push(fetchFact(calls, districtId, key, `${root}/classes/${encodeRfc3986(id)}`, (o) => refId(o.school)));
      }
      await Promise.all(jobs);
      return {
        hrefBase,
        orgType: (id) => recall(`${districtId}\u0000org:${id}`)?.value,
        classSchool: (id) => recall(`${districtId}\u0000class:${id}`)?.value,
      };
    },
  };
}

export type Lookups = ReturnType<typeof createLookups>;
