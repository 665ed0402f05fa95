// The gateway's own state: what build runs, and how its config reloads (SIGHUP) went. Names
// follow Prometheus's own (prometheus_build_info, prometheus_config_last_reload_*), so the
// usual alert on a failed reload reads the same.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface BuildLabels {
  /** package.json's version. */
  version: string;
  /** process.version. */
  nodeVersion: string;
}

export function registerOpsMetrics(registry: Registry, prefix: string, build: BuildLabels, now: () => number) {
  new Gauge({
    name: `${prefix}build_info`,
    help: 'Always 1; its labels say which gateway version runs on which Node.js.',
    labelNames: ['version', 'node_version'],
    registers: [registry],
  }).set({ version: build.version, node_version: build.nodeVersion }, 1);
  const reloads = new Counter({
    name: `${prefix}config_reloads_total`,
    help: 'Config reloads (SIGHUP) by outcome: success, or failure (the file was invalid or could not be applied; the running config stays).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  // Both outcomes exist from the start, so rate() and increase() see the first failure.
  reloads.inc({ outcome: 'success' }, 0);
  reloads.inc({ outcome: 'failure' }, 0);
  const lastOk = new Gauge({
    name: `${prefix}config_last_reload_successful`,
    help: 'Whether the last config reload succeeded (1) or was refused (0); 1 before any reload.',
    registers: [registry],
  });
  lastOk.set(1);
  // Start-up counts as the first successful load, as in Prometheus.
  const lastSuccess = new Gauge({
    name: `${prefix}config_last_reload_success_timestamp_seconds`,
    help: 'When the running config was last loaded successfully (start-up or reload), Unix seconds.',
    registers: [registry],
  });
  lastSuccess.set(now() / 1000);
  return {
    configReload(outcome: 'success' | 'failure') {
      reloads.inc({ outcome });
      lastOk.set(outcome === 'success' ? 1 : 0);
      if (outcome === 'success') lastSuccess.set(now() / 1000);
    },
  };
}
