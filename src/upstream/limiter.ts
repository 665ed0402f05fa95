// Per-district concurrency limit. SIS servers fall over under parallel load (Infinite Campus
// asks for serial calls at peak), so at most maxConcurrency requests are in flight and the
// rest wait in a bounded FIFO queue. Waiting is bounded too: a request that cannot start
// within queueTimeoutMs is better answered 503 at once than left to time out downstream.
// Background requests (a mirror's full pull) wait behind every client request in a queue of
// their own: they take a slot only when no client request is waiting for one.
import type { Interceptor } from './dispatch.js';
import { UpstreamError } from './types.js';

export interface LimiterOptions {
  districtId: string;
  maxConcurrency: number;
  /** Waiters allowed beyond the in-flight ones; 0 = no queue. */
  maxQueue: number;
  /** Longest wait for a slot; 0 = do not wait at all. */
  queueTimeoutMs: number;
}

export interface Limiter {
  /** Runs fn in a slot; the slot is released however fn ends. */
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /**
   * Waits for a slot; call the returned function once to give it back (later calls are no-ops).
   * `background`: only when no other request waits, outside maxQueue, for up to BACKGROUND_WAIT_MS.
   */
  acquire(signal?: AbortSignal, background?: boolean): Promise<() => void>;
  readonly active: number;
  readonly queued: number;
  /** Rejects every waiter; later acquires fail. In-flight holders still release normally. */
  close(): void;
}

/** How long a background request waits for a slot behind client traffic before it gives up. */
export const BACKGROUND_WAIT_MS = 10 * 60_000;

interface Waiter {
  grant(): void;
  fail(err: UpstreamError): void;
}

export function createLimiter(options: LimiterOptions): Limiter {
  const { districtId, maxConcurrency, maxQueue, queueTimeoutMs } = options;
  if (!districtId) throw new Error('limiter: districtId is required');
  if (!Number.isSafeInteger(maxConcurrency) || maxConcurrency < 1) throw new Error(`limiter: maxConcurrency must be an integer >= 1, got ${String(maxConcurrency)}`);
  if (!Number.isSafeInteger(maxQueue) || maxQueue < 0) throw new Error(`limiter: maxQueue must be an integer >= 0, got ${String(maxQueue)}`);
  if (!Number.isSafeInteger(queueTimeoutMs) || queueTimeoutMs < 0) throw new Error(`limiter: queueTimeoutMs must be an integer >= 0, got ${String(queueTimeoutMs)}`);

  let active = 0;
  let closed = false;
  // A Set keeps insertion order (FIFO) and lets a timed-out or aborted waiter leave in O(1).
  const queue = new Set<Waiter>();
  const background = new Set<Waiter>();

  const busy = (why: string) => new UpstreamError('UPSTREAM_BUSY', `district "${districtId}" is busy: ${why}`, districtId);

  function releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      active--;
      const next = queue.size > 0 ? queue.values().next() : background.values().next();
      if (!next.done) next.value.grant();
    };
  }

  function acquire(signal?: AbortSignal, low = false): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortedError());
    if (closed) return Promise.reject(closedError());
    if (active < maxConcurrency && queue.size === 0 && (!low || background.size === 0)) {
      active++;
      return Promise.resolve(releaser());
    }
    if (!low && queue.size >= maxQueue) return Promise.reject(busy(`queue full (${maxQueue} waiting)`));
    if (!low && queueTimeoutMs === 0) return Promise.reject(busy('no free slot'));
    const waitMs = low ? BACKGROUND_WAIT_MS : queueTimeoutMs;
    const line = low ? background : queue;

    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        line.delete(waiter);
      };
      const waiter: Waiter = {
        grant() {
          cleanup();
          // The slot passes straight from the releaser to this waiter, so no newcomer can
          // overtake the queue in between.
          active++;
          resolve(releaser());
        },
        fail(err) {
          cleanup();
          reject(err);
        },
      };
      const timer = setTimeout(() => waiter.fail(busy(`no slot within ${waitMs} ms`)), waitMs);
      const onAbort = () => waiter.fail(abortedError());
      signal?.addEventListener('abort', onAbort, { once: true });
      line.add(waiter);
    });
  }

  function abortedError(): UpstreamError {
    return new UpstreamError('UPSTREAM_ABORTED', `request to district "${districtId}" was aborted while queued`, districtId);
  }
  function closedError(): UpstreamError {
    return new UpstreamError('UPSTREAM_UNREACHABLE', `upstream client for district "${districtId}" is closed`, districtId);
  }

  return {
    acquire,
    async run(fn, signal) {
      const release = await acquire(signal);
      try {
        return await fn();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get queued() {
      return queue.size + background.size;
    },
    close() {
      closed = true;
      for (const waiter of [...queue, ...background]) waiter.fail(closedError());
    },
  };
}

/** The limiter as a step of the chain: each request (each retry attempt) waits for its own slot. */
export function limited(limiter: Limiter): Interceptor {
  return (next) =>
    function limitedRequest(req) {
      if (req.priority !== 'background') return limiter.run(() => next(req), req.signal);
      return limiter.acquire(req.signal, true).then(async (release) => {
        try {
          return await next(req);
        } finally {
          release();
        }
      });
    };
}
