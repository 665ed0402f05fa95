// A district for the mirror's unit tests: an in-memory OneRoster server behind the District
// interface (no sockets), honouring limit/offset/sort and the dateLastModified filter, sending
// X-Total-Count, and able to lie about its total, fail a page, or change its data between pulls.
import { createByteLedger } from '../../src/core/byte-ledger.js';
import { createRedactor } from '../../src/core/redact.js';
import type { District } from '../../src/districts/districts.js';
import { UpstreamError, type UpstreamRequest, type UpstreamResponse } from '../../src/upstream/types.js';

export type Rec = Record<string, unknown>;

export interface FakeDistrictState {
  data: Record<string, Rec[]>;
  /** Asked per request: a status to answer instead (e.g. 500 for one page). */
  fail?: (collection: string, offset: number, req: UpstreamRequest) => number | undefined;
  /** The X-Total-Count to send instead of the true one. */
  total?: (collection: string, trueTotal: number) => number | undefined;
  requests: UpstreamRequest[];
  /** Largest page the fake sends, whatever the limit asked. */
  maxPage?: number;
  /** A page of more records than this is over the district's maxBodyBytes (UPSTREAM_TOO_LARGE). */
  tooLargeAbove?: number;
}

export const UPSTREAM = 'https://sis.example.test:8443/vendor/ims/oneroster';
export const SECRET = 'sis-secret-token-1234567890';

export function fakeDistrict(id: string, state: FakeDistrictState, version: 'v1p1' | 'v1p2' = 'v1p1'): District {
  const answer = (req: UpstreamRequest): UpstreamResponse => {
    state.requests.push(req);
    const collection = req.path.split('/').pop()!;
    const q = new Map(req.query.map(([k, v]) => [k, v]));
    const offset = Number(q.get('offset') ?? 0);
    const limit = Math.min(Number(q.get('limit') ?? 100), state.maxPage ?? Infinity);
    const failed = state.fail?.(collection, offset, req);
    if (failed !== undefined) return { status: failed, headers: {}, body: Buffer.from('{}'), elapsedMs: 1 };
    let rows = [...(state.data[collection] ?? [])].sort((a, b) => String(a.sourcedId).localeCompare(String(b.sourcedId)));
    const since = /^dateLastModified>'(.+)'$/.exec(q.get('filter') ?? '')?.[1];
    if (since) rows = rows.filter((r) => String(r.dateLastModified) > since);
    const total = state.total?.(collection, rows.length) ?? rows.length;
    const page = rows.slice(offset, offset + limit);
    if (state.tooLargeAbove !== undefined && page.length > state.tooLargeAbove) throw new UpstreamError('UPSTREAM_TOO_LARGE', 'too large', id);
    return {
      status: 200,
      headers: { 'content-type': 'application/json', 'x-total-count': String(total) },
      body: Buffer.from(JSON.stringify({ [collection]: page })),
      elapsedMs: 1,
    };
  };
  return {
    id,
    name: id,
    version,
    versionSetting: version,
    authType: 'bearer',
    source: 'config',
    upstreamBase: UPSTREAM,
    maxStitchPages: 100,
    maxBodyBytes: 32 * 1024 * 1024,
    held: createByteLedger(64 * 1024 * 1024),
    redactor: createRedactor({ secrets: () => [SECRET], hosts: ['sis.example.test:8443'], paths: ['/vendor'] }),
    upstream: { districtId: id, request: async (req) => answer(req), close: async () => {} },
  };
}

/** `n` records of a collection, with GUIDRef hrefs at the district's own address. */
export function records(collection: string, n: number, extra: (i: number) => Rec = () => ({})): Rec[] {
  return Array.from({ length: n }, (_, i) => ({
    sourcedId: `${collection.slice(0, 3)}-${String(i).padStart(4, '0')}`,
    status: 'active',
    dateLastModified: `2025-01-${String((i % 28) + 1).padStart(2, '0')}T00:00:00.000Z`,
    org: { href: `${UPSTREAM}/v1p1/orgs/org-1`, sourcedId: 'org-1', type: 'org' },
    ...extra(i),
  }));
}

export function district(data: Record<string, Rec[]>, extra: Partial<FakeDistrictState> = {}): { district: District; state: FakeDistrictState } {
  const state: FakeDistrictState = { data, requests: [], ...extra };
  return { district: fakeDistrict('d1', state), state };
}
