// What a Prometheus scrape of a 300-district gateway costs: the exposition's size (text and
// gzip, as /metrics sends it to Prometheus), its sample count, and the time to build it, for the
// fleet of bench/metrics-fleet.mjs (every district with traffic; 10% with every kind of
// trouble), then for every district troubled, for every district mirrored, and with
// metrics.perDistrictHistograms (the pre-issue-18 shape).
//   npm run build && node bench/metrics-scrape.mjs [--districts 300] [--scrapes 30]
import { gzipSync } from 'node:zlib';
import { createMetrics } from '../dist/observability/metrics.js';
import { feedFleet } from './metrics-fleet.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const districts = arg('districts', 300);
const scrapes = arg('scrapes', 30);

const scenarios = [
  ['default: 10% troubled', {}, { troubled: 0.1 }],
  ['default: every district troubled', {}, { troubled: 1 }],
  ['default: 10% troubled, every district mirrored', {}, { troubled: 0.1, mirrored: districts }],
  ['perDistrictHistograms: 10% troubled', { perDistrictHistograms: true }, { troubled: 0.1 }],
];

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
const rows = [];
for (const [name, options, fleet] of scenarios) {
  const metrics = createMetrics(options);
  feedFleet(metrics, { districts, clients: 50, ...fleet });
  await metrics.text(); // warm: the first scrape builds prom-client's children
  const times = [];
  let text = '';
  for (let i = 0; i < scrapes; i++) {
    const t0 = performance.now();
    text = await metrics.text();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const g0 = performance.now();
  const gz = gzipSync(text, { level: 6 });
  const gzipMs = performance.now() - g0;
  rows.push({
    scenario: name,
    'text KB': (Buffer.byteLength(text) / 1024).toFixed(1),
    'gzip KB': (gz.byteLength / 1024).toFixed(1),
    samples: text.split('\n').filter((l) => l && !l.startsWith('#')).length,
    'scrape p50 ms': pct(times, 50).toFixed(1),
    'scrape p95 ms': pct(times, 95).toFixed(1),
    'gzip ms': gzipMs.toFixed(1),
  });
}
console.log(`${districts} districts, 50 clients, ${scrapes} scrapes each (Node ${process.version})`);
console.table(rows);
