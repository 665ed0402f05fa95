// A circuit breaker per district. A SIS that keeps failing is left alone for openSeconds:
// every request fails at once (the cached proxy serves stale pages, others get 503 with
// Retry-After) instead of piling timeouts onto a server that is trying to come back. Then
// one request goes through as a probe; its answer decides whether traffic resumes.
//
// It sits outside the retries, so one caller's request that failed after all its attempts
// counts once: the threshold counts failed requests, not failed attempts.
//
// It logs once per outage, not once per failed probe: "circuit opened" when it first opens,
// "circuit still open" at most every summaryEveryMs while probes keep failing, and "circuit
// closed" when a probe succeeds (core/incidents.ts).
import type { BreakerConfig } from '../config/schema.js';
import { createIncidents, incidentLine } from '../core/incidents.js';
import { intercept, type Dispatch, type Interceptor } from './dispatch.js';
import { UpstreamError, type UpstreamClient, type UpstreamRequest, type UpstreamResponse } from './types.js';

export interface BreakerState {
  state: 'closed' | 'open' | 'half-open';
  consecutiveFailures: number;
  /** ISO time the circuit last opened. */
  openedAt?: string;
  /** ISO time a probe is let through; set while open. */
  retryAt?: string;
  /** How often it has opened since start-up. */
  opens: number;
}

export interface BreakerDeps {
  now?: () => number;
  logger: { info(o: object): void; warn(o: object): void };
  /** While it stays open, a reminder at most this often. Default 15 minutes. */
  summaryEveryMs?: number;
}

type Outcome = 'success' | 'failure' | 'neutral';

const MESSAGES = { entered: 'circuit opened', still: 'circuit still open', recovered: 'circuit closed' };

// While a probe is out, others are told to come back soon: the probe decides in a moment.
const PROBE_PENDING_RETRY_MS = 1_000;

export interface Breaker {
  /** Absent when the breaker is disabled: nothing to put in the chain. */
  readonly intercept?: Interceptor;
  state(): BreakerState;
}

/** One client with the breaker around it (tests and tools); its lifecycle stays its own. */
export function withBreaker(client: UpstreamClient, config: BreakerConfig, deps: BreakerDeps): { client: UpstreamClient; state(): BreakerState } {
  const breaker = createBreaker(client.districtId, config, deps);
  return { client: breaker.intercept ? intercept(client, breaker.intercept) : client, state: breaker.state };
}

export function createBreaker(districtId: string, config: BreakerConfig, deps: BreakerDeps): Breaker {
  const { enabled, failureThreshold, openSeconds } = config;
  if (typeof enabled !== 'boolean') throw new Error(`breaker: enabled must be a boolean, got ${String(enabled)}`);
  if (!Number.isSafeInteger(failureThreshold) || failureThreshold < 1) throw new Error(`breaker: failureThreshold must be an integer >= 1, got ${String(failureThreshold)}`);
  if (!Number.isSafeInteger(openSeconds) || openSeconds < 1) throw new Error(`breaker: openSeconds must be an integer >= 1, got ${String(openSeconds)}`);
  if (!deps?.logger) throw new Error('breaker: logger is required');
  if (!enabled) return { state: () => ({ state: 'closed', consecutiveFailures: 0, opens: 0 }) };

  const now = deps.now ?? Date.now;
  const { logger } = deps;
  const openMs = openSeconds * 1000;
  const incidents = createIncidents(deps.summaryEveryMs !== undefined ? { summaryEveryMs: deps.summaryEveryMs } : {});

  let circuit: 'closed' | 'open' = 'closed';
  let failures = 0;
  let opens = 0;
  let openedAt = 0;
  let probing = false;
  // Bumped on every opening: an outcome of a request admitted before then is stale news.
  let generation = 0;

  function open(failureCount: number, cause: string): void {
    circuit = 'open';
    openedAt = now();
    opens++;
    generation++;
    const note = incidents.failed(districtId, cause, openedAt);
    if (!note) return;
    const { line } = incidentLine(note, MESSAGES, { district: districtId, failures: failureCount, openSeconds });
    logger.warn(line);
  }

  function close(): void {
    circuit = 'closed';
    failures = 0;
    const note = incidents.ok(districtId);
    logger.info(note ? incidentLine(note, MESSAGES, { district: districtId }).line : { msg: MESSAGES.recovered, district: districtId });
  }

  const refused = (retryAfterMs: number) =>
    new UpstreamError('UPSTREAM_CIRCUIT_OPEN', `district "${districtId}" is failing; the circuit is open`, districtId, Math.max(0, Math.ceil(retryAfterMs)));

  async function request(next: Dispatch, req: UpstreamRequest): Promise<UpstreamResponse> {
    if (circuit === 'open') {
      const wait = openedAt + openMs - now();
      if (wait > 0) throw refused(wait);
      if (probing) throw refused(PROBE_PENDING_RETRY_MS);
      return probe(next, req);
    }
    const admitted = generation;
    const outcome = await settle(next(req));
    if (admitted === generation && circuit === 'closed') {
      if (outcome.kind === 'success') failures = 0;
      else if (outcome.kind === 'failure' && ++failures >= failureThreshold) open(failures, outcome.cause);
    }
    return outcome.unwrap();
  }

  async function probe(next: Dispatch, req: UpstreamRequest): Promise<UpstreamResponse> {
    probing = true;
    try {
      // While it runs every client request to the district is refused: a background request that
      // probes (a delta poll, on a quiet district often the only one) goes at client priority, past
      // the replica's background cap, or clients would wait behind background work.
      const outcome = await settle(next(req.priority === 'background' ? clientPriority(req) : req));
      if (outcome.kind === 'success') close();
      else if (outcome.kind === 'failure') open(++failures, outcome.cause);
      // A neutral probe (aborted, our queue full, credentials refused) proves nothing:
      // the circuit stays half-open and the next request probes.
      return outcome.unwrap();
    } finally {
      probing = false;
    }
  }

  function state(): BreakerState {
    if (circuit === 'closed') return { state: 'closed', consecutiveFailures: failures, opens, ...(opens > 0 && { openedAt: iso(openedAt) }) };
    const retryAt = openedAt + openMs;
    return { state: now() >= retryAt ? 'half-open' : 'open', consecutiveFailures: failures, openedAt: iso(openedAt), retryAt: iso(retryAt), opens };
  }

  return {
    intercept: (next) =>
      function guarded(req) {
        return request(next, req);
      },
    state,
  };
}

function classify(res: UpstreamResponse | undefined, err: unknown): Outcome {
  if (res) {
    if (res.status >= 500 || res.status === 429) return 'failure';
    // Refused credentials are a configuration problem, not an outage: opening the circuit
    // would hide the real cause behind "district is failing".
    if (res.status === 401 || res.status === 403) return 'neutral';
    return 'success';
  }
  if (!(err instanceof UpstreamError)) return 'neutral';
  switch (err.code) {
    case 'UPSTREAM_TIMEOUT':
    case 'UPSTREAM_UNREACHABLE':
      return 'failure';
    // Aborted and busy are ours. A failed token fetch is refused credentials or a token
    // endpoint answering nonsense (an unreachable one is UPSTREAM_UNREACHABLE or _TIMEOUT).
    default:
      return 'neutral';
  }
}

/** Why an attempt failed, for the log: an HTTP status or an error code, never a message. */
function causeOf(res: UpstreamResponse | undefined, err: unknown): string {
  if (res) return `HTTP ${res.status}`;
  return err instanceof UpstreamError ? err.code : 'error';
}

async function settle(p: Promise<UpstreamResponse>): Promise<{ kind: Outcome; cause: string; unwrap(): UpstreamResponse }> {
  try {
    const res = await p;
    return { kind: classify(res, undefined), cause: causeOf(res, undefined), unwrap: () => res };
  } catch (err) {
    return {
      kind: classify(undefined, err),
      cause: causeOf(undefined, err),
      unwrap: () => {
        throw err;
      },
    };
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function clientPriority(req: UpstreamRequest): UpstreamRequest {
  const { priority: _background, ...rest } = req;
  return rest;
}
