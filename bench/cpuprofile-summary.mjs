// Where a `node --cpu-prof` profile's time goes: self time by owner (idle, GC, socket writes,
// Node's HTTP internals, hono's adapter, the gateway's own code, ...), the top functions by self
// time, and the gateway's and the adapter's functions by inclusive time.
//   node bench/cpuprofile-summary.mjs <file.cpuprofile> [--top 25]
// summarizeProfile(profile, { from, to }) keeps the samples taken between two CLOCK_MONOTONIC
// times in µs (process.hrtime.bigint() / 1000n in another process: V8's profile clock).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const WRITES = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString', 'writeUcs2String']);

/** The owner of a frame, for the self-time table. */
function owner(frame) {
  const { functionName: fn, url } = frame;
  if (fn === '(idle)') return 'idle (waiting in epoll)';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)') return '(program): V8/native outside JS frames';
  if (WRITES.has(fn) && !url) return 'socket writes (writev/writeBuffer, the kernel copy included)';
  if (!url) return `native: other (${fn || 'anonymous'})`;
  if (url.includes('/node_modules/@hono/node-server/')) return '@hono/node-server adapter';
  if (url.includes('/node_modules/hono/')) return 'hono (router, context)';
  if (url.includes('/node_modules/')) return `node_modules/${url.split('/node_modules/')[1].split('/').slice(0, url.includes('/node_modules/@') ? 2 : 1).join('/')}`;
  if (url.includes('/dist/')) return "gateway's own code (dist/)";
  if (url.includes('/bench/')) return 'bench server script';
  if (/^node:(_http_|http$)/.test(url) || url.startsWith('node:internal/http')) return "Node's HTTP (node:_http_*)";
  if (url.startsWith('node:net') || url.startsWith('node:internal/stream_base') || url.startsWith('node:internal/streams') || url.startsWith('node:stream')) return "Node's net/streams (JS side)";
  if (url.startsWith('node:')) return `Node internals: ${url.replace(/^node:(internal\/)?/, '').split('/')[0]}`;
  return 'other';
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const own = (url) => url && !url.includes('/node_modules/') && (url.includes('/dist/') || url.includes('/bench/'));
const adapter = (url) => url && url.includes('/node_modules/@hono/node-server/');

/** `requests`: how many requests the window served, for a µs-per-request column. */
export function summarizeProfile(profile, { top = 25, from = -Infinity, to = Infinity, requests } = {}) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const { samples, timeDeltas } = profile;
  // timeDeltas[i] is the time before sample i: the time up to the next sample belongs to sample i.
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i];
    if (t < from || t > to) continue;
    const dt = timeDeltas[i + 1] ?? 0;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
  }
  let total = 0;
  for (const v of self.values()) total += v;
  const pct = (us) => `${((us / total) * 100).toFixed(1)}%${requests ? ` | ${(us / requests).toFixed(1)}` : ''}`;
  const perReq = requests ? ' | µs/request' : '';
  const perReqSep = requests ? '|---' : '';
  const where = (f) => `${f.url ? f.url.replace(/^file:\/\//, '').replace(ROOT, '') : '(native)'}:${f.lineNumber + 1}`;

  const byOwner = new Map();
  const byFn = new Map();
  const inclusive = new Map();
  for (const [id, us] of self) {
    const f = nodes.get(id).callFrame;
    const o = owner(f);
    byOwner.set(o, (byOwner.get(o) ?? 0) + us);
    const key = `${f.functionName || '(anonymous)'} ${where(f)}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    // Inclusive time: every distinct function on the stack of this sample.
    const seen = new Set();
    for (let n = id; n !== undefined; n = parent.get(n)) {
      const cf = nodes.get(n).callFrame;
      if (!own(cf.url) && !adapter(cf.url)) continue;
      const k = `${cf.functionName || '(anonymous)'} ${where(cf)}`;
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const lines = [];
  lines.push(`${(total / 1e6).toFixed(2)} s sampled${requests ? `, ${requests} requests: ${(total / requests).toFixed(1)} µs/request of wall time, ${((total - (byOwner.get('idle (waiting in epoll)') ?? 0)) / requests).toFixed(1)} µs busy` : ''}\n`);
  lines.push(`| owner (self time) | share${perReq} | of busy time |`);
  lines.push(`|---|---${perReqSep}|---|`);
  const idle = [...byOwner].find(([o]) => o.startsWith('idle'))?.[1] ?? 0;
  let small = 0;
  for (const [o, us] of [...byOwner].sort((a, b) => b[1] - a[1])) {
    if (us / total < 0.005) small += us;
    else lines.push(`| ${o} | ${pct(us)} | ${o.startsWith('idle') ? '' : `${((us / (total - idle)) * 100).toFixed(1)}%`} |`);
  }
  if (small > 0) lines.push(`| everything under 0.5% each | ${pct(small)} | ${((small / (total - idle)) * 100).toFixed(1)}% |`);
  lines.push(`\n| top ${top} functions by self time | share${perReq} |`);
  lines.push(`|---|---${perReqSep}|`);
  for (const [k, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`| ${k} | ${pct(us)} |`);
  lines.push(`\n| own (dist/, bench/) and @hono/node-server functions by inclusive time (top ${top}) | share${perReq} |`);
  lines.push(`|---|---${perReqSep}|`);
  for (const [k, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`| ${k} | ${pct(us)} |`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--top');
  console.log(summarizeProfile(JSON.parse(readFileSync(process.argv[2], 'utf8')), { top: i > 0 ? Number(process.argv[i + 1]) : 25 }));
}
