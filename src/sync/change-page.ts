import type { District } from '../districts/districts.js';

export type ChangePage =
  | { kind: 'records'; records: Array<Record<string, unknown>>; total?: number }
  /** The district refused the dateLastModified filter (or has no such collection). */
  | { kind: 'rejected'; status: number };

export class DeltaSyncError extends Error {
  override readonly name = 'DeltaSyncError';
  constructor(readonly code: string) {
    super(code);
  }
}

// 400/422: the filter is not understood; 404/501: the collection is not served.
const REJECTED = new Set([400, 404, 422, 501]);

/**
 * One page of records changed after `since`, read straight from the district (never from the
 * cache), at background priority: behind the district's client requests, within the replica's
 * background cap (upstream/background-cap.ts).
 */
export async function readChangePage(district: District, path: string, since: string, offset: number, limit: number): Promise<ChangePage> {
  const res = await district.upstream.request({
    method: 'GET',
    path,
    query: [
      ['filter', `dateLastModified>'${since}'`],
      ['limit', String(limit)],
      ['offset', String(offset)],
    ],
    priority: 'background',
  });
  if (REJECTED.has(res.status)) return { kind: 'rejected', status: res.status };
  if (res.status < 200 || res.status >= 300) throw new DeltaSyncError(`upstream_http_${res.status}`);
  let body: unknown;
  try {
    body = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new DeltaSyncError('upstream_not_json');
  }
  const list = body && typeof body === 'object' ? Object.values(body).find(Array.isArray) : undefined;
  if (!list) throw new DeltaSyncError('upstream_no_list');
  const records = list.filter((r): r is Record<string, unknown> => !!r && typeof r === 'object');
  const total = Number(res.headers['x-total-count']);
  return Number.isSafeInteger(total) && total >= 0 ? { kind: 'records', records, total } : { kind: 'records', records };
}
