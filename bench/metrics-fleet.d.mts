// Types of bench/metrics-fleet.mjs, for the test that imports it.
import type { Metrics } from '../src/observability/metrics.js';

export declare const ROUTES: readonly string[];
export declare function districtIds(n: number): string[];
export declare function clientIds(n: number): string[];
export declare function feedFleet(
  metrics: Metrics,
  options?: { districts?: number; clients?: number; mirrored?: number; troubled?: number; now?: number },
): { districts: string[]; clients: string[] };
