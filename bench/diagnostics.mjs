// Diagnostics for benchmarks: a gateway process with the V8 inspector open (CPU profiles,
// forced GC, heap snapshots, process.memoryUsage() of the gateway itself), memory from
// /proc, and summaries of CPU profiles and heap snapshots. Used by bench/full-pull.mjs and
// bench/memory.mjs; bench/processes.mjs has the plain process helpers.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { WebSocket } from 'undici';
import { cpuMs, freePort } from './processes.mjs';

const children = [];
process.on('exit', () => children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL')));

/** VmRSS and VmHWM (peak RSS) of a process in bytes, from /proc (Linux); NaN elsewhere. */
export function procMemory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: Number.NaN, hwm: Number.NaN };
  }
}

/** A Chrome DevTools protocol session over the inspector's WebSocket. */
async function connectInspector(port) {
  let target;
  for (let i = 0; i < 100 && !target; i++) {
    target = await fetch(`http://127.0.0.1:${port}/json/list`).then((r) => r.json()).then((l) => l[0], () => undefined);
    if (!target) await new Promise((r) => setTimeout(r, 50));
  }
  if (!target) throw new Error('inspector did not answer');
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const pending = new Map();
  const listeners = new Map();
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.id !== undefined) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error) p?.reject(new Error(`${m.error.message} (${m.error.code})`));
      else p?.resolve(m.result);
    } else listeners.get(m.method)?.(m.params);
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      pending.set(++id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  const evaluate = async (expression) => {
    const r = await send('Runtime.evaluate', { expression, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`evaluate: ${r.exceptionDetails.text}`);
    return r.result.value;
  };
  return {
    send,
    on: (method, fn) => listeners.set(method, fn),
    /** process.memoryUsage() inside the process. */
    memoryUsage: async () => JSON.parse(await evaluate('JSON.stringify(process.memoryUsage())')),
    /** A full, compacting GC (what DevTools' "collect garbage" does). */
    collectGarbage: () => send('HeapProfiler.collectGarbage'),
    /** CPU profile (V8 sampling profiler, the same as --cpu-prof) of whatever `fn` makes the process do. */
    async profile(fn, intervalUs = 200) {
      await send('Profiler.enable');
      await send('Profiler.setSamplingInterval', { interval: intervalUs });
      await send('Profiler.start');
      let profile;
      try {
        await fn();
      } finally {
        ({ profile } = await send('Profiler.stop'));
        await send('Profiler.disable');
      }
      return profile;
    },
    /** Writes a heap snapshot (it starts with a full GC) to `file`. */
    async heapSnapshot(file) {
      const out = createWriteStream(file);
      this.on('HeapProfiler.addHeapSnapshotChunk', ({ chunk }) => out.write(chunk));
      await send('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: false });
      await new Promise((r) => out.end(r));
      return file;
    },
    close: () => ws.close(),
  };
}

/**
 * Starts `node --inspect=127.0.0.1:<port> [nodeArgs] dist/main.js` on a config object, like
 * processes.mjs's gatewayProcess, and opens an inspector session to it. `stop()` sends SIGTERM
 * and resolves when the process has exited.
 */
export async function inspectedGatewayProcess(config, { env = {}, nodeArgs = [] } = {}) {
  const file = join(mkdtempSync(join(tmpdir(), 'gw-bench-')), 'gateway.yaml');
  writeFileSync(file, JSON.stringify(config)); // JSON is YAML
  const [port, inspectPort] = [await freePort(), await freePort()];
  const args = [`--inspect=127.0.0.1:${inspectPort}`, ...nodeArgs, 'dist/main.js', '--config', file];
  // Same pinning as processes.mjs (BENCH_SERVER_CPU).
  const pin = process.env.BENCH_SERVER_CPU;
  const child = pin ? spawn('taskset', ['-c', pin, process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn', PORT: String(port), ...env } })
    : spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn', PORT: String(port), ...env } });
  children.push(child);
  // The inspector's own chatter is dropped; anything else the gateway says goes to stderr.
  let buf = '';
  child.stderr.on('data', (d) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop();
    for (const l of lines) if (!/^(Debugger (listening|attached|ending)|For help, see|Waiting for the debugger)/.test(l)) process.stderr.write(`${l}\n`);
  });
  const exited = new Promise((r) => child.once('exit', r));
  const url = `http://127.0.0.1:${port}`;
  let ready = false;
  for (let i = 0; i < 200 && !ready; i++) {
    ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (!ready) await new Promise((r) => setTimeout(r, 50));
  }
  if (!ready) throw new Error('gateway did not become ready');
  const inspector = await connectInspector(inspectPort);
  return {
    url,
    pid: child.pid,
    inspector,
    cpuMs: () => cpuMs(child.pid),
    memory: () => procMemory(child.pid),
    async stop() {
      inspector.close();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A CPU profile of this very process (the load generator) while `fn` runs. */
export async function profileSelf(fn, intervalUs = 200) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  let profile;
  try {
    await fn();
  } finally {
    ({ profile } = await session.post('Profiler.stop'));
    session.disconnect();
  }
  return profile;
}

/**
 * Self time per function of a V8 CPU profile (.cpuprofile), largest first:
 * [{ fn, where, ms, share }]. `share` is of all samples, idle included.
 */
export function topSelfTime(profile, n = 15) {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    totalUs += dt;
    const { callFrame: cf } = byNode.get(id);
    const file = cf.url ? relativeUrl(cf.url) : '';
    const key = `${cf.functionName || '(anonymous)'}\u0000${file ? `${file}:${cf.lineNumber + 1}` : ''}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
  });
  return [...selfUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, us]) => {
      const [fn, where] = key.split('\u0000');
      return { fn, where, ms: Math.round(us / 1000), share: us / totalUs };
    });
}

function relativeUrl(url) {
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  if (path.startsWith('node:')) return path;
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

/** Self time grouped by owner (node internals, the gateway's dist/, each node_modules package, GC, idle). */
export function selfTimeByOwner(profile) {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const owners = new Map();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    totalUs += dt;
    const { functionName, url } = byNode.get(id).callFrame;
    let owner;
    if (functionName === '(idle)') owner = 'idle';
    else if (functionName === '(garbage collector)') owner = 'GC';
    else if (functionName === '(program)') owner = '(program): V8/native, outside JS';
    else if (!url) owner = `native: ${functionName || '(anonymous)'}`;
    else if (url.startsWith('node:')) owner = 'Node internals (node:*)';
    else {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
      owner = m ? m[1] : /\/dist\//.test(url) ? 'gateway (dist/)' : relativeUrl(url);
    }
    owners.set(owner, (owners.get(owner) ?? 0) + dt);
  });
  return [...owners].sort((a, b) => b[1] - a[1]).map(([owner, us]) => ({ owner, ms: Math.round(us / 1000), share: us / totalUs }));
}

/**
 * Self size of a .heapsnapshot grouped by node type and name: strings, Buffers' backing
 * stores (native "system / JSArrayBufferData"), arrays, objects by constructor; and the
 * strings of at least `bigString` bytes (whole response bodies held as text).
 */
export function heapSnapshotSummary(file, n = 12, bigString = 64 * 1024) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const width = fields.length;
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const nodes = snap.nodes;
  const byType = new Map();
  const byName = new Map();
  let total = 0;
  const big = { count: 0, bytes: 0, byHead: new Map() };
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    const size = nodes[i + iSize];
    total += size;
    if (type === 'string' && size >= bigString) {
      big.count++;
      big.bytes += size;
      // What the text is: its first characters (a JSON body starts with its wrapper key).
      const head = String(snap.strings[nodes[i + iName]]).slice(0, 14);
      const g = big.byHead.get(head) ?? { count: 0, bytes: 0 };
      g.count++;
      g.bytes += size;
      big.byHead.set(head, g);
    }
    const t = byType.get(type) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += size;
    byType.set(type, t);
    // Strings are grouped by type only (their name is their content).
    const name = type === 'string' || type === 'concatenated string' || type === 'sliced string' ? `(${type})` : `${type}: ${String(snap.strings[nodes[i + iName]]).slice(0, 60)}`;
    const b = byName.get(name) ?? { count: 0, bytes: 0 };
    b.count++;
    b.bytes += size;
    byName.set(name, b);
  }
  const sorted = (m) => [...m].sort((a, b) => b[1].bytes - a[1].bytes).map(([name, v]) => ({ name, ...v }));
  return { total, byType: sorted(byType), top: sorted(byName).slice(0, n), bigStrings: { count: big.count, bytes: big.bytes, byHead: sorted(big.byHead) } };
}

/**
 * bench/static-pages-server.mjs in its own process: copies of every page the gateway at
 * `origin` serves from each of `starts` (following rel="next"), answered from memory.
 */
export async function staticPagesServer({ origin, token, starts }) {
  const port = await freePort();
  const args = ['bench/static-pages-server.mjs', String(port), JSON.stringify({ origin, token, starts })];
  const pin = process.env.BENCH_SERVER_CPU;
  const child = pin ? spawn('taskset', ['-c', pin, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const [pages, bytes] = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /^ready (\d+) (\d+)$/m.exec(buf);
      if (m) resolve([Number(m[1]), Number(m[2])]);
    });
    child.once('exit', (code) => reject(new Error(`static pages server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, pages, bytes, cpuMs: () => cpuMs(child.pid), stop: () => child.kill('SIGTERM') };
}
