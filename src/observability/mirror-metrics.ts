// The mirror's metrics: what each district's copy holds and how old it is (read at scrape
// time), and how its full pulls go (counted as they end). Per district, never per record or
// request: bounded by the configured districts. By collection only with
// metrics.perDistrictHistograms: 300 mirrored districts would otherwise add some 8,000 series
// (seven collections, three operations) to every scrape, and GET /districts has the counts.
import { Counter, Gauge, type Registry } from 'prom-client';
import { optionalGauge } from './state-gauges.js';

export interface MirrorSource {
  district: string;
  counts: Partial<Record<string, number>>;
  /** When the copy last agreed with the district (ms epoch). */
  agreedAt: number;
}

export interface ChangeLogSource {
  district: string;
  log: { held: number; tombstones: number; oldestAt?: number };
}

type Sources = { mirrors?: () => Iterable<MirrorSource>; mirrorBytes?: () => number | undefined; changeLogs?: () => Iterable<ChangeLogSource>; now?: () => number };

export function registerMirrorMetrics(registry: Registry, prefix: string, sources: () => Sources, options: { perCollection: boolean } = { perCollection: false }) {
  const { perCollection } = options;
  new Gauge({
    name: `${prefix}mirror_records`,
    help: perCollection ? "Records in the district's published mirror copy, by collection." : "Records in the district's published mirror copy (by collection with metrics.perDistrictHistograms).",
    labelNames: perCollection ? ['district', 'collection'] : ['district'],
    registers: [registry],
    collect() {
      this.reset();
      for (const m of sources().mirrors?.() ?? []) {
        const counts = Object.entries(m.counts);
        if (perCollection) for (const [collection, n] of counts) this.set({ district: m.district, collection }, n ?? 0);
        else this.set({ district: m.district }, counts.reduce((sum, [, n]) => sum + (n ?? 0), 0));
      }
    },
  });
  new Gauge({
    name: `${prefix}mirror_age_seconds`,
    help: "Seconds since the district's mirror copy last agreed with the district (a full pull, or a complete delta sync): what Age says on its answers.",
    labelNames: ['district'],
    registers: [registry],
    collect() {
      this.reset();
      const t = (sources().now ?? Date.now)();
      for (const m of sources().mirrors?.() ?? []) this.set({ district: m.district }, Math.max(0, (t - m.agreedAt) / 1000));
    },
  });
  // Absent, not 0, with a PostgreSQL store (prom-client's Gauge says 0 when nothing was set).
  optionalGauge(
    registry,
    `${prefix}mirror_memory_bytes`,
    "Bytes the in-process mirror store counts against mirror.maxMemoryBytes (the records' JSON, every copy and pull in progress); absent with a PostgreSQL store.",
    () => sources().mirrorBytes?.(),
  );
  const perLog = (name: string, help: string, value: (s: ChangeLogSource, now: number) => number) =>
    new Gauge({
      name: `${prefix}${name}`,
      help,
      labelNames: ['district'],
      registers: [registry],
      collect() {
        this.reset();
        const t = (sources().now ?? Date.now)();
        for (const s of sources().changeLogs?.() ?? []) this.set({ district: s.district }, value(s, t));
      },
    });
  perLog('mirror_changes_held', "Observed changes the district's mirror holds (the change feed, and dateLastModified> reads).", (s) => s.log.held);
  perLog('mirror_tombstones', 'Records the district purged that the mirror still serves as tombstones (deletions held).', (s) => s.log.tombstones);
  perLog(
    'mirror_feed_retention_seconds',
    "How far back the district's change feed reaches: the age of its oldest change held (0 when none is); cursors older than it answer 410.",
    (s, t) => (s.log.oldestAt === undefined ? 0 : Math.max(0, (t - s.log.oldestAt) / 1000)),
  );
  const recorded = new Counter({
    name: `${prefix}mirror_changes_recorded_total`,
    help: 'Changes the mirror observed and recorded (created, updated by content, deleted; by collection with metrics.perDistrictHistograms): counted by the replica that published or applied the copy.',
    labelNames: perCollection ? ['district', 'collection', 'op'] : ['district', 'op'],
    registers: [registry],
  });
  const pulls = new Counter({
    name: `${prefix}mirror_pulls_total`,
    help: 'Full pulls of a district by outcome: published, refused (the publish guard kept the copy before), failed.',
    labelNames: ['district', 'outcome'],
    registers: [registry],
  });
  const lastDuration = new Gauge({
    name: `${prefix}mirror_last_pull_duration_seconds`,
    help: "How long the district's last full pull took, whatever its outcome.",
    labelNames: ['district'],
    registers: [registry],
  });
  const pullRequests = new Counter({
    name: `${prefix}mirror_pull_upstream_requests_total`,
    help: 'Requests full pulls sent to the district.',
    labelNames: ['district'],
    registers: [registry],
  });
  return {
    mirrorChanges(district: string, changed: Partial<Record<string, Partial<Record<string, number>>>>) {
      for (const [collection, ops] of Object.entries(changed)) {
        for (const [op, n] of Object.entries(ops ?? {})) if (n) (perCollection ? recorded.labels(district, collection, op) : recorded.labels(district, op)).inc(n);
      }
    },
    mirrorPull(district: string, outcome: string, seconds: number, upstreamRequests: number) {
      pulls.labels(district, outcome).inc();
      lastDuration.labels(district).set(seconds);
      pullRequests.labels(district).inc(upstreamRequests);
    },
  };
}
