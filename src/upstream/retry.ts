// Retries for one district's reads. Only GETs: a PUT or DELETE that reached the server and
// lost its answer may have been applied, and repeating it is not ours to decide. Only
// failures that mean "the server did not take the request" or "come back later": a refused
// or reset connection, 502/503/504 from a proxy in front of the SIS, and 429. A timeout is
// not retried: the server is slow, and asking again doubles its load. A 500 is an answer
// from the application itself and usually repeats. UPSTREAM_BUSY is our own queue.
//
// Each attempt takes a limiter slot of its own below, so a request waiting out its backoff
// holds no slot and other requests to the district keep flowing.
import type { RetryConfig } from '../config/schema.js';
import { intercept, type Interceptor } from './dispatch.js';
import { UpstreamError, type RetryReason, type UpstreamClient, type UpstreamResponse } from './types.js';

export interface RetryDeps {
  /** Waits ms; may ignore the signal (the wait is abandoned on abort either way). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** [0, 1), for jitter. */
  random?: () => number;
  /** Wall clock in ms: the maxTotalMs budget, and Retry-After given as an HTTP-date. */
  now?: () => number;
}

const RETRY_STATUSES = new Set([429, 502, 503, 504]);
// Only these two carry a Retry-After that means "try again later" (RFC 9110 §10.2.3).
const RETRY_AFTER_STATUSES = new Set([429, 503]);

/** Retries as a step of the chain; `districtId` names the district in an aborted wait's error. */
export function retry(districtId: string, config: RetryConfig, deps: RetryDeps = {}): Interceptor {
  const { maxAttempts, baseDelayMs, maxDelayMs, maxTotalMs } = config;
  requireInt('maxAttempts', maxAttempts, 1);
  requireInt('baseDelayMs', baseDelayMs, 1);
  requireInt('maxDelayMs', maxDelayMs, 1);
  requireInt('maxTotalMs', maxTotalMs, 0);
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const now = deps.now ?? Date.now;

  function backoff(attempt: number): number {
    return random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  }

  return (next) =>
    async function retried(req) {
      if (req.method !== 'GET' || maxAttempts === 1) return next(req);
      const started = now();
      let sent = req;
      for (let attempt = 1; ; attempt++) {
        let outcome: { res: UpstreamResponse } | { err: unknown };
        try {
          outcome = { res: await next(sent) };
        } catch (err) {
          outcome = { err };
        }
        const last = () => {
          if ('res' in outcome) return outcome.res;
          throw outcome.err;
        };
        if (attempt >= maxAttempts || !retryable(outcome)) return last();
        let delay = backoff(attempt);
        if ('res' in outcome && RETRY_AFTER_STATUSES.has(outcome.res.status)) {
          const asked = retryAfterMs(outcome.res.headers['retry-after'], now());
          if (asked !== undefined) delay = Math.max(delay, asked);
        }
        // Better the caller gets the real failure now than a retry that cannot finish in time.
        if (now() - started + delay > maxTotalMs) return last();
        await abortable(sleep(delay, req.signal), req.signal, districtId);
        sent = { ...req, attempt: { number: attempt + 1, retryReason: reasonOf(outcome) } };
      }
    };
}

/** One client with retries around it (tests and tools); its lifecycle stays its own. */
export function withRetry(client: UpstreamClient, config: RetryConfig, deps: RetryDeps = {}): UpstreamClient {
  return intercept(client, retry(client.districtId, config, deps));
}

function retryable(outcome: { res: UpstreamResponse } | { err: unknown }): boolean {
  if ('res' in outcome) return RETRY_STATUSES.has(outcome.res.status);
  return outcome.err instanceof UpstreamError && outcome.err.code === 'UPSTREAM_UNREACHABLE';
}

function reasonOf(outcome: { res: UpstreamResponse } | { err: unknown }): RetryReason {
  if (!('res' in outcome)) return 'network';
  return outcome.res.status === 429 ? '429' : '5xx';
}

/** Retry-After as ms from now: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined if unreadable. */
export function retryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  // All three HTTP-date forms start with a day name; Date.parse reads them, but would also
  // take '-3' or '2025' for a date, so nothing else is handed to it.
  if (!/^[A-Za-z]{3,9},? /.test(text)) return undefined;
  // HTTP-dates are GMT; the asctime form does not say so, and Date.parse would read local time.
  const at = Date.parse(/\b(GMT|UTC)$/i.test(text) ? text : `${text} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

function abortable(wait: Promise<void>, signal: AbortSignal | undefined, districtId: string): Promise<void> {
  const aborted = () => new UpstreamError('UPSTREAM_ABORTED', `request to district "${districtId}" was aborted while waiting to retry`, districtId);
  if (!signal) return wait;
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    wait.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) reject(aborted());
        else resolve();
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    // On abort the timer goes at once; the caller's race has already rejected.
    signal?.addEventListener('abort', done, { once: true });
  });
}

function requireInt(field: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`retry: ${field} must be an integer >= ${min}, got ${String(value)}`);
}
