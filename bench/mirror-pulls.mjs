// Client-side pulls for bench/mirror.mjs: a pull that stops at a deadline (a slow store is
// cut, not waited for), the bodies of a pull kept for the parse floor, and the JSON weight of a
// copy as the memory store counts it against mirror.maxMemoryBytes.
import { request } from 'undici';
import { agent, nextLink } from './sync-client.mjs';

/** Where the memory store roots kept hrefs (src/mirror/pull-page.ts MIRROR_ROOT); answers put the request's root in its place. */
const MIRROR_ROOT = 'orgw-mirror-root:';

/** Follows Link rel="next" through every collection, parsing each page, until done or `deadline` (ms, performance.now()). */
export async function pullUntil(root, keys, headers, limit, deadline) {
  const t0 = performance.now();
  const out = { limit, pages: 0, records: 0, bytes: 0, xCache: {}, complete: true };
  for (const key of keys) {
    for (let url = `${root}/${key}?limit=${limit}&offset=0`; url; ) {
      if (performance.now() > deadline) {
        out.complete = false;
        break;
      }
      const res = await request(url, { headers, dispatcher: agent });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${text.slice(0, 200)}`);
      out.pages++;
      out.records += JSON.parse(text)[key].length;
      out.bytes += text.length;
      out.xCache[res.headers['x-cache']] = (out.xCache[res.headers['x-cache']] ?? 0) + 1;
      url = nextLink(res.headers.link);
    }
  }
  out.seconds = (performance.now() - t0) / 1000;
  return out;
}

/** JSON.parse of `bodies` with no HTTP, best of 3 (the client's floor, as bench/full-pull.mjs measures it). */
export function parseFloor(bodies) {
  const times = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    let n = 0;
    for (const [key, text] of bodies) n += JSON.parse(text)[key].length;
    times.push((performance.now() - t0) / 1000);
    if (n === 0) throw new Error('nothing parsed');
  }
  return Math.min(...times);
}

/** The bodies of a full pull from `root`, following Link, unparsed. */
export async function pullBodies(root, headers, keys, limit) {
  const bodies = [];
  for (const key of keys) {
    for (let url = `${root}/${key}?limit=${limit}&offset=0`; url; ) {
      const res = await request(url, { headers, dispatcher: agent });
      bodies.push([key, await res.body.text()]);
      url = nextLink(res.headers.link);
    }
  }
  return bodies;
}

/**
 * What the memory store counts against mirror.maxMemoryBytes: JSON.stringify(record).length with
 * hrefs at the store's root. `root` is the gateway's OneRoster root for the district.
 */
export async function copyJsonWeight(root, headers, counts) {
  let weight = 0;
  let records = 0;
  for (const key of Object.keys(counts)) {
    for (let url = `${root}/v1p1/${key}?limit=10000&offset=0`; url; ) {
      const res = await request(url, { headers, dispatcher: agent });
      const text = await res.body.text();
      const list = res.statusCode === 200 ? JSON.parse(text)[key] : undefined;
      if (!Array.isArray(list)) throw new Error(`GET ${url}: ${res.statusCode} ${text.slice(0, 200)}`);
      for (const r of list) weight += JSON.stringify(r).replaceAll(root, MIRROR_ROOT).length;
      records += list.length;
      url = nextLink(res.headers.link);
    }
  }
  return { weight, records };
}
