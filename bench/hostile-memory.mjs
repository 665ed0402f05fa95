// Memory and latency of one gateway process under hostile clients and hostile districts.
// A healthy sandbox district is read from the cache in a loop all along (its hit latency is
// what the other districts feel), and the gateway's RSS is sampled from /proc every 50 ms.
// Phases, each measured on its own after a baseline with no hostile load:
//   token 600 MB      one 600 MB body streamed to POST /oauth/token
//   token 20x100 MB   twenty 100 MB bodies at once to POST /oauth/token
//   district 150 MB   4 concurrent reads, twice, of a district answering a 150 MB page
//   district endless  4 concurrent reads of a district whose body never ends
//   ignores offset    reads of a district that sends the same 20 MB page (records without
//                     sourcedId, no total) whatever the offset: the page the gateway stitches
// The hostile district is a node:http server in its own process (this file, --hostile-server),
// routed by the first path segment of each district's baseUrl. A gateway that dies in a phase
// is reported as such and restarted for the next one.
//   npm run build && node bench/hostile-memory.mjs
//   options: [--huge-mb 150] [--ignores-mb 20] [--token-mb 600] [--token-parallel 20]
//            [--token-parallel-mb 100] [--settle-ms 1000] [--json]
//            [--entry path/to/main.js] (another build, e.g. one from before a fix)
import { fork } from 'node:child_process';
import { createServer, request as httpRequest, Agent as HttpAgent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { procMemory } from './diagnostics.mjs';
import { BENCH_CLIENT, benchToken, gatewayProcess, sandboxProcess } from './processes.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[i + 1] : def;
};
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------
// The hostile district (child process)

async function hostileServer() {
  const hugeBytes = Number(opt('huge-mb', 150)) * MiB;
  const ignoresBytes = Number(opt('ignores-mb', 20)) * MiB;
  const record = (i, id) =>
    JSON.stringify({
      ...(id ? { sourcedId: `u-${i}` } : {}),
      status: 'active',
      dateLastModified: '2024-01-01T00:00:00.000Z',
      username: `user${i}`,
      givenName: 'Given',
      familyName: 'Family',
      role: 'student',
      email: `user${i}@example.org`,
      filler: 'x'.repeat(120),
    });
  // One ~1 MiB run of records, repeated: what the gateway reads is the size, not the ids.
  const unit = Buffer.from(Array.from({ length: 3500 }, (_, i) => record(i, true)).join(','));
  const sep = Buffer.from(',');
  // The offset-ignoring page: built once, sent every time. 2,000 records, fewer than the
  // client's limit, so the gateway asks for the next page (and gets this one again).
  const ignoresCount = 2000;
  const fat = (i) => JSON.stringify({ status: 'active', username: `user${i}`, role: 'student', filler: 'x'.repeat(Math.max(0, Math.floor(ignoresBytes / ignoresCount) - 60)) });
  const ignoresPage = Buffer.from(`{"users":[${Array.from({ length: ignoresCount }, (_, i) => fat(i)).join(',')}]}`);
  const hits = { huge: 0, endless: 0, ignores: 0 };
  let sent = 0;

  async function stream(res, maxBytes) {
    let gone = false;
    res.on('close', () => (gone = true));
    const write = async (buf) => {
      sent += buf.length;
      if (!res.write(buf) && !gone) await drainOrClose(res);
    };
    let written = 0;
    await write(Buffer.from('{"users":['));
    for (let first = true; !gone && (maxBytes === undefined || written < maxBytes); first = false) {
      if (!first) await write(sep);
      await write(unit);
      written += unit.length + 1;
    }
    if (!gone) res.end(']}');
  }

  const server = createServer((req, res) => {
    req.resume();
    const mode = (req.url ?? '/').split('/')[1];
    if (mode in hits) hits[mode]++;
    res.setHeader('content-type', 'application/json');
    if (mode === 'huge') return void stream(res, hugeBytes);
    if (mode === 'endless') return void stream(res, undefined);
    if (mode === 'ignores') {
      sent += ignoresPage.length;
      return void res.end(ignoresPage);
    }
    res.statusCode = 404;
    res.end('{}');
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port, ignoresPageBytes: ignoresPage.length, ignoresCount }));
  process.on('message', (m) => {
    if (m?.cmd === 'stats') process.send?.({ hits: { ...hits }, sent });
    if (m?.cmd === 'reset') {
      for (const k of Object.keys(hits)) hits[k] = 0;
      sent = 0;
      process.send?.({ ok: true });
    }
  });
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
}

function drainOrClose(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function startHostile() {
  const child = fork(fileURLToPath(import.meta.url), ['--hostile-server', ...argv], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  process.on('exit', () => child.kill('SIGKILL'));
  const ask = (cmd) =>
    new Promise((resolve) => {
      child.once('message', resolve);
      child.send({ cmd });
    });
  return new Promise((resolve) =>
    child.once('message', (m) => resolve({ origin: `http://127.0.0.1:${m.port}`, info: m, stats: () => ask('stats'), reset: () => ask('reset') })),
  );
}

// ---------------------------------------------------------------------------------------
// Measurement

/** Samples VmRSS of `pid` every 50 ms; stop() gives the peak and the last reading. */
function rssSampler(pid) {
  let peak = 0;
  let last = 0;
  const read = () => {
    const { rss } = procMemory(pid);
    if (Number.isFinite(rss)) {
      last = rss;
      peak = Math.max(peak, rss);
    }
  };
  read();
  const timer = setInterval(read, 50);
  return {
    stop() {
      clearInterval(timer);
      read();
      return { peak, last };
    },
  };
}

const hitAgent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
function getOnce(url, token, agent = hitAgent, timeoutMs = 30_000) {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent, headers: { authorization: `Bearer ${token}` }, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      res.on('data', (d) => (bytes += d.length));
      res.on('end', () => resolve({ status: res.statusCode, bytes }));
      res.on('error', () => resolve({ status: 'reset', bytes }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: err.message === 'timeout' ? 'timeout' : 'error', bytes: 0 }));
    req.end();
  });
}

/** Cached reads of the healthy district, back to back, until stop(); latencies in ms. */
function hitLoop(gw, token) {
  const url = `${gw.url}/districts/d/ims/oneroster/v1p1/users?limit=100`;
  const latencies = [];
  let errors = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const t0 = performance.now();
      const r = await getOnce(url, token, hitAgent, 10_000);
      latencies.push(performance.now() - t0);
      if (r.status !== 200) {
        errors++;
        await new Promise((res) => setTimeout(res, 20));
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { latencies, errors };
    },
  };
}

const pct = (sorted, p) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);

/** Streams `bytes` of form body to POST /oauth/token; resolves with what the gateway answered and how much it took. */
function hostileTokenBody(gwUrl, bytes) {
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(MiB, 'a');
    let written = 0;
    let settled = false;
    const finish = (outcome) => {
      if (settled) return;
      settled = true;
      resolve({ ...outcome, written });
    };
    const req = httpRequest(`${gwUrl}/oauth/token`, { method: 'POST', agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(bytes) } }, (res) => {
      res.resume();
      res.on('end', () => finish({ status: res.statusCode }));
      res.on('error', () => finish({ status: res.statusCode }));
      req.destroy();
    });
    req.on('error', (err) => finish({ status: err.code ?? 'error' }));
    req.setTimeout(120_000, () => req.destroy(new Error('timeout')));
    const pump = () => {
      while (!settled && written < bytes && !req.destroyed) {
        const n = Math.min(chunk.length, bytes - written);
        written += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
      }
      if (written >= bytes && !req.destroyed) req.end();
    };
    pump();
  });
}

// ---------------------------------------------------------------------------------------
// The run

async function main() {
  const settleMs = Number(opt('settle-ms', 1000));
  const tokenMb = Number(opt('token-mb', 600));
  const parallel = Number(opt('token-parallel', 20));
  const parallelMb = Number(opt('token-parallel-mb', 100));
  const hugeMb = Number(opt('huge-mb', 150));
  const sandbox = await sandboxProcess({ version: 'v1p1', auth: { type: 'bearer', token: 'bench-token' }, users: 2000 });
  const hostile = await startHostile();
  const hostileDistrict = (id) => ({ id, version: 'v1p1', baseUrl: `${hostile.origin}/${id}/ims/oneroster`, auth: { type: 'bearer', token: 'hostile-token' }, upstream: { timeoutMs: 60_000 } });
  const config = {
    auth: { tokenSecret: 'b'.repeat(40), clients: [BENCH_CLIENT] },
    cache: { store: 'memory', ttlSeconds: 3600, staleSeconds: 3600, deltaSync: { enabled: false } },
    metrics: { enabled: false },
    districts: [
      { id: 'd', version: 'v1p1', baseUrl: sandbox.baseUrl, auth: { type: 'bearer', token: 'bench-token' } },
      hostileDistrict('huge'),
      hostileDistrict('endless'),
      hostileDistrict('ignores'),
    ],
  };

  let gw;
  let token;
  let restarts = 0;
  async function ensureGateway() {
    if (gw && gw.alive) return;
    if (gw) restarts++;
    const g = await gatewayProcess(config, {}, [], opt('entry', 'dist/main.js'));
    g.alive = true;
    g.exited.then(() => (g.alive = false));
    gw = g;
    token = await benchToken(gw.url);
    // Warm the healthy page: every later read of it is a cache hit.
    for (let i = 0; i < 50; i++) await getOnce(`${gw.url}/districts/d/ims/oneroster/v1p1/users?limit=100`, token);
  }

  const results = [];
  async function phase(name, load) {
    await ensureGateway();
    await hostile.reset();
    await new Promise((r) => setTimeout(r, settleMs));
    const sampler = rssSampler(gw.pid);
    const hits = load ? hitLoop(gw, token) : undefined;
    const t0 = performance.now();
    let outcome;
    try {
      outcome = load ? await load(gw) : await new Promise((r) => setTimeout(() => r('idle'), 3000));
    } catch (err) {
      outcome = `error: ${err.message}`;
    }
    const ms = performance.now() - t0;
    // The load has ended; keep sampling while the gateway frees what it held.
    await new Promise((r) => setTimeout(r, settleMs));
    const mem = sampler.stop();
    const lat = hits ? await hits.stop() : undefined;
    const sorted = lat ? [...lat.latencies].sort((a, b) => a - b) : [];
    const upstream = await hostile.stats();
    const row = {
      phase: name,
      seconds: +(ms / 1000).toFixed(1),
      peakRssMiB: +(mem.peak / MiB).toFixed(0),
      rssAfterMiB: +(mem.last / MiB).toFixed(0),
      hits: sorted.length,
      hitErrors: lat?.errors ?? 0,
      p50ms: +pct(sorted, 50).toFixed(2),
      p99ms: +pct(sorted, 99).toFixed(2),
      maxms: +(sorted.at(-1) ?? Number.NaN).toFixed(1),
      gateway: gw.alive ? 'alive' : 'DIED',
      upstreamHits: upstream.hits,
      upstreamMiBSent: +(upstream.sent / MiB).toFixed(1),
      outcome,
    };
    results.push(row);
    process.stderr.write(`${name}: peak ${row.peakRssMiB} MiB, p50 ${row.p50ms} ms, p99 ${row.p99ms} ms, ${row.gateway}, ${JSON.stringify(outcome)}\n`);
  }

  const statuses = (list) => {
    const counts = {};
    for (const r of list) counts[r.status] = (counts[r.status] ?? 0) + 1;
    return counts;
  };
  // Each concurrent read has its own offset: identical reads would share one upstream call.
  const hostileGets = async (g, id, n, limit = 10000) => {
    const agent = new HttpAgent({ keepAlive: false });
    const url = (i) => `${g.url}/districts/${id}/ims/oneroster/v1p1/users?limit=${limit}&offset=${i}`;
    return statuses(await Promise.all(Array.from({ length: n }, (_, i) => getOnce(url(i), token, agent, 120_000))));
  };

  await phase('idle', undefined);
  await phase('baseline (no hostile load)', async () => {
    await new Promise((r) => setTimeout(r, 3000));
    return 'no load';
  });
  await phase(`token: one ${tokenMb} MB body`, async (g) => {
    const r = await hostileTokenBody(g.url, tokenMb * MiB);
    return { status: r.status, sentMiB: +(r.written / MiB).toFixed(1) };
  });
  await phase(`token: ${parallel} x ${parallelMb} MB at once`, async (g) => {
    const all = await Promise.all(Array.from({ length: parallel }, () => hostileTokenBody(g.url, parallelMb * MiB)));
    return { statuses: statuses(all), sentMiB: +(all.reduce((n, r) => n + r.written, 0) / MiB).toFixed(1) };
  });
  await phase(`district: ${hugeMb} MB page, 4 at once, twice`, async (g) => {
    const a = await hostileGets(g, 'huge', 4);
    const b = await hostileGets(g, 'huge', 4, 9999);
    return { first: a, second: b };
  });
  await phase('district: endless body, 4 at once', async (g) => hostileGets(g, 'endless', 4));
  await phase(`district: ignores offset (${(hostile.info.ignoresPageBytes / MiB).toFixed(0)} MB page of ${hostile.info.ignoresCount} id-less records), 1 then 2 at once`, async (g) => {
    const a = await hostileGets(g, 'ignores', 1);
    const b = await hostileGets(g, 'ignores', 2, 9000);
    return { first: a, twoMore: b };
  });

  if (argv.includes('--json')) console.log(JSON.stringify({ results, restarts }, null, 2));
  else {
    console.log('| phase | s | peak RSS MiB | RSS after MiB | hit p50 ms | hit p99 ms | hit max ms | hits (errors) | gateway | upstream hits, MiB sent | outcome |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of results) {
      const up = Object.entries(r.upstreamHits).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
      console.log(
        `| ${r.phase} | ${r.seconds} | ${r.peakRssMiB} | ${r.rssAfterMiB} | ${r.p50ms} | ${r.p99ms} | ${r.maxms} | ${r.hits} (${r.hitErrors}) | ${r.gateway} | ${up || '-'}${up ? `, ${r.upstreamMiBSent}` : ''} | ${JSON.stringify(r.outcome).replaceAll('|', '/')} |`,
      );
    }
    if (restarts) console.log(`\nThe gateway died and was restarted ${restarts} time(s).`);
  }
  gw?.stop();
  sandbox.stop();
  process.exit(0);
}

// Last, so every module-level constant above is initialised before either role runs.
if (argv.includes('--hostile-server')) await hostileServer();
else await main();
