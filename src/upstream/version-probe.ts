import { GatewayError } from '../core/errors.js';
import { createIncidents, incidentLine } from '../core/incidents.js';
import type { Version } from '../core/oneroster/endpoints.js';
import type { Dispatch, Interceptor } from './dispatch.js';
import type { UpstreamRequest, UpstreamResponse } from './types.js';

// `version: auto`: which OneRoster a district speaks is asked of the district itself. The
// 1.2 rostering path first (a 1.2 server may keep 1.1 paths for old clients), then 1.1;
// the answer is remembered. Collection paths that keep answering 404 mean the district
// was upgraded (or downgraded): it is asked again.

export interface VersionProbeState {
  /** pending: not asked yet; probed: answered; failed: the last attempt had no answer. */
  state: 'pending' | 'probed' | 'failed';
  probedAt?: string;
  /** HTTP statuses or error code of the last failed attempt; never a message. */
  lastFailure?: string;
  lastFailureAt?: string;
}

export interface VersionProbe {
  /** The district's version once known; undefined before the first answer. */
  current(): Version | undefined;
  /**
   * The version, asking the district when it is not known yet. Concurrent callers share
   * one probe; after a failed one, callers within `retryAfterFailureMs` get the same error
   * without a new upstream call, so a dead district is not hammered.
   */
  settle(): Promise<Version>;
  state(): VersionProbeState;
}

export interface VersionProbeOptions {
  logger: { info(o: object): void; warn(o: object): void };
  now?: () => number;
  /** Consecutive 404s on collection paths before the district is asked again. */
  reprobeAfter404s?: number;
  /** At most one re-probe per this many ms. */
  minReprobeIntervalMs?: number;
  retryAfterFailureMs?: number;
}

const PROBE_MESSAGES = { entered: 'district version probe failed', still: 'district version probe still failing', recovered: 'district version probe answered again' };

const PROBES: ReadonlyArray<readonly [Version, string]> = [
  ['v1p2', '/rostering/v1p2/orgs'],
  ['v1p1', '/v1p1/orgs'],
];
// A collection root below a version root (/v1p1/users, /rostering/v1p2/classes): a 404
// there means the path does not exist, not that a record is missing.
const COLLECTION_ROOT = /^\/(?:(?:rostering|gradebook|resources)\/)?v1p[12]\/[A-Za-z]+\/?$/;

/** The path exists and speaks JSON: a 2xx with a JSON object (not a catch-all HTML page). */
function answers(res: UpstreamResponse): boolean {
  if (res.status < 200 || res.status > 299) return false;
  try {
    const value: unknown = JSON.parse(res.body.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}

/**
 * The district's probed version, and the step of its chain that watches for repeated 404s.
 * The probe asks through the steps below it (the breaker, health, retries): composed once,
 * before anyone settles it.
 */
export function createVersionProbe(districtId: string, options: VersionProbeOptions): { intercept: Interceptor; probe: VersionProbe } {
  const now = options.now ?? Date.now;
  const threshold = options.reprobeAfter404s ?? 3;
  const minInterval = options.minReprobeIntervalMs ?? 60_000;
  const retryAfterFailure = options.retryAfterFailureMs ?? 10_000;
  const { logger } = options;
  // A district that keeps failing its probe (each delta poll and client asks again) warns once,
  // then at most every 15 minutes, and says when it answers again.
  const incidents = createIncidents();
  let send: Dispatch = () => Promise.reject(new Error(`version probe of district "${districtId}" is not in a chain`));

  let version: Version | undefined;
  let running: Promise<Version> | undefined;
  let lastAttemptAt = -Infinity;
  let lastError: unknown;
  let misses = 0;
  const state: VersionProbeState = { state: 'pending' };

  async function ask(): Promise<Version> {
    const statuses: number[] = [];
    for (const [v, path] of PROBES) {
      const res = await send({ method: 'GET', path, query: [['limit', '1']], headers: { 'x-request-id': `version-probe-${districtId}` } });
      if (answers(res)) return v;
      statuses.push(res.status);
    }
    const refused = statuses.some((s) => s === 401 || s === 403);
    throw Object.assign(
      new GatewayError(
        refused ? 'upstream_auth_failed' : 'upstream_bad_response',
        refused
          ? `District "${districtId}" refused the gateway's credentials while its OneRoster version was being determined.`
          : `District "${districtId}" answered neither the OneRoster 1.2 nor the 1.1 path, so its version is unknown.`,
      ),
      { statuses },
    );
  }

  function probe(): Promise<Version> {
    running ??= (async () => {
      lastAttemptAt = now();
      try {
        const found = await ask();
        const recovered = incidents.ok(districtId);
        if (version !== undefined && found !== version) logger.warn({ msg: 'district version changed', district: districtId, from: version, to: found });
        else if (version === undefined) logger.info({ msg: 'district version probed', district: districtId, version: found, ...(recovered && { failedSince: new Date(recovered.since).toISOString(), failedAttempts: recovered.attempts }) });
        else if (recovered) logger.info(incidentLine(recovered, PROBE_MESSAGES, { district: districtId }).line);
        version = found;
        misses = 0;
        lastError = undefined;
        state.state = 'probed';
        state.probedAt = new Date(lastAttemptAt).toISOString();
        return found;
      } catch (err) {
        lastError = err;
        const statuses = (err as { statuses?: number[] }).statuses;
        state.lastFailure = statuses ? statuses.map((s) => `HTTP ${s}`).join(', ') : ((err as { code?: string }).code ?? 'error');
        state.lastFailureAt = new Date(lastAttemptAt).toISOString();
        if (version === undefined) state.state = 'failed';
        const note = incidents.failed(districtId, state.lastFailure, lastAttemptAt);
        if (note) logger.warn({ ...incidentLine(note, PROBE_MESSAGES, { district: districtId }).line, failure: state.lastFailure });
        throw err;
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  const probeHandle: VersionProbe = {
    current: () => version,
    settle() {
      if (version !== undefined) return Promise.resolve(version);
      if (running) return running;
      if (lastError !== undefined && now() - lastAttemptAt < retryAfterFailure) return Promise.reject(lastError);
      return probe();
    },
    state: () => ({ ...state }),
  };

  function observe(req: UpstreamRequest, res: UpstreamResponse): void {
    if (res.status >= 200 && res.status < 300) misses = 0;
    else if (res.status === 404 && req.method === 'GET' && COLLECTION_ROOT.test(req.path) && ++misses >= threshold) {
      if (version !== undefined && !running && now() - lastAttemptAt >= minInterval) {
        logger.warn({ msg: 'district answers 404 on collection paths; probing its version again', district: districtId, misses });
        probe().catch(() => undefined);
      }
    }
  }

  return {
    probe: probeHandle,
    intercept(next) {
      send = next;
      return async function observed(req) {
        const res = await next(req);
        observe(req, res);
        return res;
      };
    },
  };
}
