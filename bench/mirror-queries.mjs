// Never-seen queries for bench/mirror.mjs: for each kind, `n` distinct URLs (different
// offsets or ids, so no two requests are the same and nothing could be answered from a page
// cache), sent one at a time from one client; latency is until the body is read whole (not
// parsed). Offsets and ids come from a seeded PRNG, so two runs send the same requests.
import { request } from 'undici';
import { agent } from './sync-client.mjs';

/** mulberry32: small, seeded, good enough to pick offsets. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` distinct integers in [0, range), in random order (all of them, shuffled, when range <= n). */
export function distinctOffsets(rand, n, range) {
  if (range <= n) {
    const all = Array.from({ length: Math.max(0, range) }, (_, i) => i);
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [all[i], all[j]] = [all[j], all[i]];
    }
    return all;
  }
  const seen = new Set();
  while (seen.size < n) seen.add(Math.floor(rand() * range));
  return [...seen];
}

/** Nearest-rank percentile of sorted numbers. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * The query kinds over a district of `facts` ({ users, userIds, teachers, recent: { date, count },
 * classIds, schoolIds, enrollmentsPerSchool (the smallest school's) }), each `n` URLs (paths
 * below `/districts/{id}`), limit=5000 only `nBig`; `big` marks it: the latency goal leaves it out.
 */
export function queryKinds(facts, n, nBig = n, seed = 1) {
  const rand = prng(seed);
  const v11 = '/ims/oneroster/v1p1';
  const enc = encodeURIComponent;
  // Offsets whose page is full when the collection allows (a small district: any offset, pages may come short).
  const paged = (path, limit, range) => distinctOffsets(rand, n, Math.max(n, range - limit + 1)).map((o) => `${path}?limit=${limit}&offset=${o}`);
  // Ids in turn; past the last id, the same ids again with another page size, so every URL stays distinct.
  const byIds = (ids, path) => Array.from({ length: n }, (_, i) => `${path(ids[i % ids.length])}?limit=${100 - Math.floor(i / ids.length)}`);
  const filter = (f) => `filter=${enc(f)}&`;
  const kinds = [
    { kind: 'users page (limit=100, random offset)', urls: paged(`${v11}/users`, 100, facts.users) },
    { kind: "filter=role='teacher' (limit=100)", urls: distinctOffsets(rand, n, facts.teachers).map((o) => `${v11}/users?${filter("role='teacher'")}limit=100&offset=${o}`) },
    {
      kind: `filter=dateLastModified>'…' (${facts.recent.count} records, limit=100)`,
      urls: distinctOffsets(rand, n, facts.recent.count).map((o) => `${v11}/users?${filter(`dateLastModified>'${facts.recent.date}'`)}limit=100&offset=${o}`),
    },
    { kind: '/classes/{id}/students', urls: byIds(facts.classIds, (id) => `${v11}/classes/${enc(id)}/students`) },
    // A relationship route whose answer is a real-life size (a user's few classes), whatever the sandbox's class sizes.
    { kind: '/users/{id}/classes', urls: distinctOffsets(rand, n, facts.userIds.length).map((i) => `${v11}/users/${enc(facts.userIds[i])}/classes`) },
    {
      // Distinct offsets, the schools in turn: every URL differs by its offset.
      kind: '/schools/{id}/enrollments (limit=100, random offset)',
      urls: distinctOffsets(rand, n, Math.max(1, facts.enrollmentsPerSchool - 99)).map((o, i) => `${v11}/schools/${enc(facts.schoolIds[i % facts.schoolIds.length])}/enrollments?limit=100&offset=${o}`),
    },
    { kind: '1.2 path on the 1.1 district: users (limit=100)', urls: paged('/ims/oneroster/rostering/v1p2/users', 100, facts.users) },
    { kind: 'users page (limit=1000, random offset)', urls: paged(`${v11}/users`, 1000, facts.users) },
    { kind: 'users page (limit=5000, random offset)', urls: paged(`${v11}/users`, 5000, facts.users).slice(0, nBig), big: true },
  ];
  for (const k of kinds) if (new Set(k.urls).size !== k.urls.length) throw new Error(`query kind "${k.kind}": URLs are not distinct`);
  return kinds;
}

/**
 * Sends each URL of `kind` one at a time, stopping after `maxSeconds`; { kind, n (sent), p50,
 * p99, max, mean, recordsPerPage, total (the first answer's X-Total-Count), notMirror, errors }.
 */
export async function runKind(base, headers, { kind, urls, big }, maxSeconds = Infinity) {
  const start = performance.now();
  const times = [];
  let records = 0;
  let notMirror = 0;
  const errors = [];
  let failed = 0;
  let total;
  for (const path of urls) {
    if (performance.now() - start > maxSeconds * 1000) break;
    const t0 = performance.now();
    const res = await request(`${base}${path}`, { headers, dispatcher: agent });
    const text = await res.body.text();
    times.push(performance.now() - t0);
    if (res.statusCode !== 200) {
      failed++;
      if (errors.length < 3) errors.push(`${res.statusCode} ${path}: ${text.slice(0, 160)}`);
      continue;
    }
    if (res.headers['x-cache'] !== 'MIRROR') notMirror++;
    total ??= res.headers['x-total-count'] === undefined ? undefined : Number(res.headers['x-total-count']);
    // Counted outside the timing: how many records the pages held (to say what a kind returns).
    const body = JSON.parse(text);
    const list = Object.values(body).find(Array.isArray);
    records += list?.length ?? 0;
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    kind,
    big: !!big,
    n: times.length,
    planned: urls.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1),
    mean: times.reduce((a, b) => a + b, 0) / times.length,
    seconds: (performance.now() - start) / 1000,
    recordsPerPage: records / Math.max(1, times.length - failed),
    total,
    notMirror,
    failed,
    errors,
  };
}
