// The mirror's metrics: what each district's copy holds and how old it is (read at scrape
// time), and how its full pulls go (counted as they end). Per district, never per record or
// request: bounded by the configured districts.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface MirrorSource {
  district: string;
  counts: Partial<Record<string, number>>;
  /** When the copy last agreed with the district (ms epoch). */
  agreedAt: number;
}

export function registerMirrorMetrics(registry: Registry, prefix: string, sources: () => { mirrors?: () => Iterable<MirrorSource>; mirrorBytes?: () => number | undefined; now?: () => number }) {
  new Gauge({
    name: `${prefix}mirror_records`,
    help: "Records in the district's published mirror copy, by collection.",
    labelNames: ['district', 'collection'],
    registers: [registry],
    collect() {
      this.reset();
      for (const m of sources().mirrors?.() ?? []) for (const [collection, n] of Object.entries(m.counts)) this.set({ district: m.district, collection }, n ?? 0);
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
  new Gauge({
    name: `${prefix}mirror_memory_bytes`,
    help: "Bytes the in-process mirror store counts against mirror.maxMemoryBytes (the records' JSON, every copy and pull in progress); absent with a PostgreSQL store.",
    registers: [registry],
    collect() {
      this.reset();
      const bytes = sources().mirrorBytes?.();
      if (bytes !== undefined) this.set(bytes);
    },
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
    mirrorPull(district: string, outcome: string, seconds: number, upstreamRequests: number) {
      pulls.labels(district, outcome).inc();
      lastDuration.labels(district).set(seconds);
      pullRequests.labels(district).inc(upstreamRequests);
    },
  };
}
