// A OneRoster sync client as benchmarks use it: pulls every page of a collection, reads each
// body whole and JSON.parse's it, as a real roster sync does. Sequential mode follows
// `Link: <...>; rel="next"` page after page (what the sandbox and the gateway both send, with
// X-Total-Count); concurrent mode reads X-Total-Count from the first page and keeps N
// offset/limit pages in flight. undici's request() on a keep-alive Agent: the lightest Node
// HTTP client, so the client's own cost does not hide the server's.
import { Agent, request } from 'undici';

export const agent = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000, connections: 256, pipelining: 1 });

/** The target of the rel="next" link of an RFC 8288 Link header, if any. */
export function nextLink(link) {
  if (!link) return undefined;
  for (const part of String(link).split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    const rel = m && /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(m[2]);
    if (rel && (rel[1] ?? rel[2]).toLowerCase().split(/\s+/).includes('next')) return m[1];
  }
  return undefined;
}

// Its own function so CPU profiles show the client's JSON.parse apart from the rest.
function parseBody(text) {
  return JSON.parse(text);
}

async function getPage(url, headers, key, parse) {
  const res = await request(url, { headers, dispatcher: agent });
  if (!parse && res.statusCode === 200) {
    // Bytes only (to see the server's share): the body is read whole but not decoded or parsed.
    let bytes = 0;
    for await (const chunk of res.body) bytes += chunk.length;
    const total = res.headers['x-total-count'] !== undefined ? Number(res.headers['x-total-count']) : undefined;
    return { records: Number.NaN, bytes, total, next: nextLink(res.headers.link), xCache: res.headers['x-cache'] ?? '-' };
  }
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${text.slice(0, 200)}`);
  const records = parseBody(text)[key];
  if (!Array.isArray(records)) throw new Error(`GET ${url}: no "${key}" array in the body`);
  const len = res.headers['content-length'];
  return {
    records: records.length,
    bytes: len !== undefined ? Number(len) : Buffer.byteLength(text),
    total: res.headers['x-total-count'] !== undefined ? Number(res.headers['x-total-count']) : undefined,
    next: nextLink(res.headers.link),
    xCache: res.headers['x-cache'] ?? '-',
  };
}

/**
 * Every page of one collection. `root` is the version root (…/ims/oneroster/v1p1), `key` the
 * collection (users, enrollments); `parse: false` reads the bodies but does not parse them
 * (records are then NaN). Returns { pages, records, bytes, total, xCache: {HIT: n, …} }.
 */
export async function pullCollection(root, key, headers, { limit = 1000, concurrency = 1, parse = true } = {}) {
  const out = { pages: 0, records: 0, bytes: 0, total: undefined, xCache: {} };
  const add = (p) => {
    out.pages++;
    out.records += p.records;
    out.bytes += p.bytes;
    out.xCache[p.xCache] = (out.xCache[p.xCache] ?? 0) + 1;
  };
  const first = await getPage(`${root}/${key}?limit=${limit}&offset=0`, headers, key, parse);
  add(first);
  out.total = first.total;
  if (concurrency <= 1) {
    for (let next = first.next, p; next; next = p.next) {
      p = await getPage(next, headers, key, parse);
      add(p);
      if (p.records === 0) break;
    }
  } else {
    if (first.total === undefined) throw new Error(`${key}: no X-Total-Count, cannot page concurrently`);
    const offsets = [];
    for (let o = limit; o < first.total; o += limit) offsets.push(o);
    const worker = async () => {
      for (let o = offsets.shift(); o !== undefined; o = offsets.shift()) add(await getPage(`${root}/${key}?limit=${limit}&offset=${o}`, headers, key, parse));
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
  if (parse && out.total !== undefined && out.records !== out.total) throw new Error(`${key}: read ${out.records} records, X-Total-Count says ${out.total}`);
  return out;
}

/** Every collection in turn; sums, plus wall time and this process's CPU time. */
export async function pullAll(root, keys, headers, options) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sum = { pages: 0, records: 0, bytes: 0, xCache: {}, perCollection: {} };
  for (const key of keys) {
    const r = await pullCollection(root, key, headers, options);
    sum.perCollection[key] = r;
    sum.pages += r.pages;
    sum.records += r.records;
    sum.bytes += r.bytes;
    for (const [k, v] of Object.entries(r.xCache)) sum.xCache[k] = (sum.xCache[k] ?? 0) + v;
  }
  sum.seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  sum.clientCpuMs = (cpu.user + cpu.system) / 1000;
  return sum;
}
