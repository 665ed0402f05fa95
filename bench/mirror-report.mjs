// The report of bench/mirror.mjs: markdown tables (what BENCHMARKS.md quotes), the goals
// judged, and one JSON line with every figure at the end.
const MiB = 1024 * 1024;
const mib = (b) => (Number.isFinite(b) ? (b / MiB).toFixed(0) : '–');
const mb = (b) => (b / 1e6).toFixed(1);
const s = (ms) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '–');
const ms = (x) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : '–');
const ratio = (x) => (x >= 10 ? x.toFixed(0) : x.toFixed(2));
const xc = (x) => Object.entries(x).map(([k, v]) => `${k} ${v}`).join(', ');
const GOAL_P99 = { memory: 50, postgres: 100 };

function printPull(res) {
  const { options: o, stores } = res;
  console.log('\n### 1. Time to the first published copy\n');
  console.log('| store | upstream requests (pull) | district hits seen | floor: requests × latency | pull (lastFullPull.durationMs) | pull / floor | of which the publish | gateway start to `ready` | CPU s: gateway / sandbox / PostgreSQL |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of stores) {
    const p = r.pull;
    console.log(
      `| ${r.label} | ${p.upstreamRequests} | ${p.sandboxHits} | ${s(p.floorMs)} s | ${s(p.durationMs)} s (${r.mirror.state}) | ${ratio(p.durationMs / p.floorMs)}× | ${s(p.publishMs)} s | ${r.wallToPublishSeconds.toFixed(2)} s | ` +
        `${s(p.cpuMs.gateway)} / ${s(p.cpuMs.sandbox)} / ${s(p.cpuMs.postgres)} |`,
    );
  }
  console.log(`\nFloor: ${o.latencyMs} ms per request the pull made, nothing else. Gateway CPU counts from its start (about 0.5 s of it is start-up).`);
  for (const r of stores.filter((x) => x.mirror?.state !== 'ready')) console.log(`\n${r.label}: no copy: ${JSON.stringify(r.mirror?.lastFullPull)}`);
}

function printQueries(res, ready) {
  const { options: o } = res;
  console.log(`\n### 2. Never-seen queries on the copy (${o.queries} distinct URLs per kind, ${o.bigQueries} for limit=5000, one at a time, until the body is read)\n`);
  const head = ready.map((r) => `${r.label}: n, p50 / p99 / max ms | ${r.label}: CPU ms per query`).join(' | ');
  console.log(`| query | records per page | matches (X-Total-Count) | ${head} |`);
  console.log(`|---|---|---|${ready.map(() => '---|---|').join('')}`);
  for (const kind of ready[0].queries.map((q) => q.kind)) {
    const qs = ready.map((r) => r.queries.find((q) => q.kind === kind));
    const cells = qs.map(
      (q) => `${q.n}${q.n < q.planned ? ' (cut)' : ''}, ${ms(q.p50)} / ${ms(q.p99)} / ${ms(q.max)} | gateway ${ms(q.cpuMsPerQuery.gateway)}${Number.isFinite(q.cpuMsPerQuery.postgres) ? `, PostgreSQL ${ms(q.cpuMsPerQuery.postgres)}` : ''}`,
    );
    console.log(`| ${kind} | ${qs[0].recordsPerPage.toFixed(0)} | ${qs[0].total ?? '–'} | ${cells.join(' | ')} |`);
  }
  for (const r of ready) {
    const small = r.queries.filter((q) => !q.big);
    const worst = small.reduce((a, b) => (b.p99 > a.p99 ? b : a));
    const goal = GOAL_P99[r.label] ?? GOAL_P99.postgres;
    const over = small.filter((q) => q.p99 >= goal).map((q) => `${q.kind} ${ms(q.p99)} ms`);
    const bad = r.queries.flatMap((q) => (q.notMirror || q.failed ? [`${q.kind}: ${q.notMirror} not MIRROR, ${q.failed} failed ${q.errors.join(' | ')}`] : []));
    console.log(
      `\n**Goal ${r.label}: p99 < ${goal} ms for pages up to 1000 records: ${worst.p99 < goal ? 'met' : 'not met'}** (worst: ${worst.kind}, p99 ${ms(worst.p99)} ms` +
        `${over.length ? `; over the goal: ${over.join(', ')}` : ''}).${bad.length ? ` Problems: ${bad.join('; ')}` : ''}`,
    );
  }
  for (const r of ready.filter((x) => x.early)) {
    const e = r.early;
    console.log(`\n${r.label}, right after the publish (${o.early} other URLs per kind, mirror_records analyzed before: ${e.analyzedBefore.analyzed ? `yes, ${e.analyzedBefore.by}` : 'no'}, after: ${e.analyzedAfter.analyzed ? `yes, ${e.analyzedAfter.by} at ${e.analyzedAfter.at}` : 'no'}):`);
    console.log(`${e.queries.map((q) => `${q.kind} p50 ${ms(q.p50)} / max ${ms(q.max)} ms`).join('; ')}.`);
    console.log(`The measure above waited ${r.analyze.waitedSeconds.toFixed(0)} s more for autovacuum to analyze mirror_records (${r.analyze.analyzed ? `done, ${r.analyze.by}` : 'not done within 180 s'}).`);
  }
}

function printConcurrent(res, ready, limits) {
  const { options: o } = res;
  console.log(`\n### 3. Three clients pulling ${o.collections.join(' and ')} in full at once (limits ${limits.join(', ')}; cut after ${o.concurrentSeconds} s)\n`);
  console.log('| store | client | pages | records | wall s | ms/page | X-Cache | done | district requests during it (sandbox count / upstream_requests_total) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of ready) {
    r.concurrent.clients.forEach((c, i) =>
      console.log(
        `| ${i === 0 ? r.label : ''} | limit=${c.limit} | ${c.pages} | ${c.records} | ${c.seconds.toFixed(2)} | ${((c.seconds * 1000) / c.pages).toFixed(1)} | ${xc(c.xCache)} | ${c.complete ? 'all' : 'cut'} | ` +
          `${i === 0 ? `**${r.concurrent.sandboxHits} / ${r.concurrent.upstreamMetric}**` : ''} |`,
      ),
    );
  }
}

function printFullPull(res, ready) {
  const { options: o, direct } = res;
  console.log(`\n### 4. Full pull of ${o.collections.join(' + ')}, limit=${o.limit}, following Link, JSON.parse per page\n`);
  console.log('| path | pages | records | MB | wall s | ms/page | vs direct | server CPU s |');
  console.log('|---|---|---|---|---|---|---|---|');
  const row = (label, p, cpu) =>
    console.log(`| ${label} | ${p.pages} | ${p.records} | ${mb(p.bytes)} | ${p.seconds.toFixed(2)} | ${((p.seconds * 1000) / p.pages).toFixed(1)} | ${direct ? `${ratio(direct.seconds / p.seconds)}×` : '–'} | ${cpu === undefined ? '–' : s(cpu)} |`);
  if (direct) row(`direct from the district (${o.latencyMs} ms/page)`, direct);
  for (const r of ready) row(`from the ${r.label} copy (${r.fullPull.runs.length > 1 ? `median of ${r.fullPull.runs.length}` : 'one round'})`, r.fullPull.median, r.fullPull.median.serverCpuMs);
  if (res.bare) row(`bare @hono/node-server, the same pages from memory (median of ${res.bare.rounds})`, res.bare);
  const f = res.parseFloorSeconds;
  if (Number.isFinite(f)) console.log(`| client floor: JSON.parse of the same bodies, no HTTP (best of 3) | | | | ${f.toFixed(2)} | | ${direct ? `${ratio(direct.seconds / f)}×` : '–'} | |`);
  for (const r of ready) {
    const rounds = r.fullPull.runs.map((p) => p.seconds.toFixed(2)).join(', ');
    const x = direct ? direct.seconds / r.fullPull.median.seconds : Number.NaN;
    console.log(
      `\n**Goal ${r.label}: full pull at least 15× faster than direct: ${!direct ? 'not measured (--skip-direct)' : x >= 15 ? 'met' : 'not met'}**${direct ? ` (${x.toFixed(1)}×)` : ''}; ` +
        `${Number.isFinite(f) ? `${ratio(r.fullPull.median.seconds / f)}× the client's parse floor; ` : ''}rounds ${rounds} s.`,
    );
  }
}

function printMemory(res, ready, total) {
  const { options: o } = res;
  console.log('\n### 5. Memory and size\n');
  const b = res.baseline;
  console.log('| gateway | RSS MiB | peak RSS MiB | V8 heap used MiB (after full GC) | external MiB |');
  console.log('|---|---|---|---|---|');
  console.log(`| mirroring off (baseline) | ${mib(b.rss)} | ${mib(b.hwm)} | ${mib(b.heapUsed)} | ${mib(b.external)} |`);
  for (const r of ready) {
    const rows = [['after publish', r.memoryAfterPublish], ['after the queries and pulls', r.memoryAfterAll], ['after a refresh pull (--profile)', r.memoryAfterRefresh]];
    for (const [when, m] of rows.filter(([, x]) => x)) {
      console.log(`| ${r.label} store, ${when} | ${mib(m.rss)} | ${mib(m.hwm)} | ${mib(m.heapUsed)} | ${mib(m.external)} |`);
    }
  }
  const mem = ready.find((r) => r.jsonWeight);
  if (mem) {
    const heap = mem.memoryAfterPublish.heapUsed - b.heapUsed;
    const rss = mem.memoryAfterPublish.rss - b.rss;
    const w = mem.jsonWeight;
    console.log(
      `\nMemory store, ${total} records: +${mib(rss)} MiB RSS and +${mib(heap)} MiB heap over the baseline = ${(rss / total).toFixed(0)} B RSS / ${(heap / total).toFixed(0)} B heap per record. ` +
        `The copy's JSON weight (what mirror.maxMemoryBytes counts: JSON.stringify length, hrefs at the store's root; recomputed here from the served records) is ${mib(w.weight)} MiB ` +
        `(${(w.weight / w.records).toFixed(0)} per record), ${((w.weight / o.maxMemoryBytes) * 100).toFixed(0)}% of maxMemoryBytes ${mib(o.maxMemoryBytes)} MiB; heap held per JSON byte counted: ${(heap / w.weight).toFixed(2)}. ` +
        `The store's own counter is not shown in GET /districts or /metrics.`,
    );
  }
  const pgr = ready.find((r) => r.sizes);
  if (pgr) {
    const z = pgr.sizes;
    console.log(`\nPostgreSQL (${z.version.split(' on ')[0]}, jit ${z.jit}), after the run: database ${mib(z.database)} MiB; ${z.records.rows} current rows, their docs ${mib(z.records.json_bytes)} MiB as JSON text, ${mib(z.records.doc_bytes)} MiB as stored jsonb (pg_column_size).\n`);
    console.log('| table | total MiB | heap MiB | indexes MiB | TOAST MiB |');
    console.log('|---|---|---|---|---|');
    for (const t of z.tables.filter((x) => x.total > 64 * 1024)) console.log(`| ${t.name}${t.unlogged ? ' (unlogged)' : ''} | ${mib(t.total)} | ${mib(t.heap)} | ${mib(t.indexes)} | ${mib(t.toast)} |`);
    console.log('\n| index | table | MiB |');
    console.log('|---|---|---|');
    for (const i of z.indexes.filter((x) => x.bytes > MiB)) console.log(`| ${i.name} | ${i.table} | ${mib(i.bytes)} |`);
    const recs = z.tables.find((t) => t.name === 'mirror_records');
    if (recs) console.log(`\nmirror_records: ${(recs.total / z.records.rows).toFixed(0)} B per record in all (${(recs.heap / z.records.rows).toFixed(0)} heap, ${(recs.toast / z.records.rows).toFixed(0)} TOAST, ${(recs.indexes / z.records.rows).toFixed(0)} indexes).`);
  }
}

function printProfiles(ready) {
  for (const r of ready.filter((x) => x.profiles)) {
    for (const p of r.profiles) {
      console.log(`\n#### Gateway CPU profile, ${r.label} store: ${p.what}\n`);
      console.log('| function | where | self ms | share |');
      console.log('|---|---|---|---|');
      for (const t of p.top) console.log(`| ${t.fn} | ${t.where || '–'} | ${t.ms} | ${(t.share * 100).toFixed(1)}% |`);
      console.log(`\nBy owner: ${p.owners.map((w) => `${w.owner} ${(w.share * 100).toFixed(0)}%`).join(', ')}.`);
    }
  }
}

export function printReport(res, { concurrentLimits }) {
  const { options: o, stores } = res;
  const ready = stores.filter((r) => r.mirror?.state === 'ready');
  const counts = ready[0]?.mirror.counts ?? {};
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(`\n## Mirror: ${o.users} users, ${o.latencyMs} ms/page at the district, stores: ${stores.map((r) => r.label).join(', ')}\n`);
  console.log(`District: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')} (${total} records); generated in ${res.genSeconds.toFixed(1)} s, sandbox RSS ${mib(res.sandboxRss)} MiB.`);
  if (o.postgres) console.log(`PostgreSQL: ${o.postgres}.`);
  console.log('Gateway: defaults (mirror.pageSize 10000, one pull request at a time, postgres poolSize 10), deltaSync off so only the pull reaches the district; each store gets a fresh gateway process.');
  printPull(res);
  if (ready.length) {
    printQueries(res, ready);
    printConcurrent(res, ready, concurrentLimits);
    printFullPull(res, ready);
    printMemory(res, ready, total);
    printProfiles(ready);
  }
  console.log(`\n${JSON.stringify({ bench: 'mirror', ...res })}`);
}
