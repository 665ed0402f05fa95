// At most `max` background requests (delta polls, mirror pulls: `priority: 'background'`) in
// flight from this replica, whatever the district. With hundreds of districts, background work
// started together would otherwise send hundreds of requests at once from one process.
// Client requests pass straight through: they never wait here, so a saturated cap slows only
// the background. (A district's own limiter already lets its clients go first: limiter.ts.)
//
// It sits in the client's half of the chain, inside the retries: an attempt holds a slot while
// it waits for the district's slot and while it runs, never during a retry's backoff.
import type { Interceptor } from './dispatch.js';
import { BACKGROUND_WAIT_MS } from './limiter.js';
import { UpstreamError } from './types.js';

export interface BackgroundCap {
  /** The step of one district's chain: its background requests take a slot of the replica's cap. */
  interceptor(districtId: string): Interceptor;
  /** Background requests holding a slot now. */
  readonly active: number;
  /** Background requests waiting for one. */
  readonly waiting: number;
}

export interface BackgroundCapOptions {
  /** Background requests in flight at once across every district (sync.maxBackgroundConcurrency). */
  max: number;
  /** Longest wait for a slot before the request fails busy. Default BACKGROUND_WAIT_MS (10 minutes). */
  maxWaitMs?: number;
}

interface Waiter {
  grant(): void;
}

export function createBackgroundCap(options: BackgroundCapOptions): BackgroundCap {
  const { max } = options;
  const maxWaitMs = options.maxWaitMs ?? BACKGROUND_WAIT_MS;
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`background cap: max must be an integer >= 1, got ${String(max)}`);
  if (!(Number.isSafeInteger(maxWaitMs) && maxWaitMs >= 0)) throw new RangeError(`background cap: maxWaitMs must be an integer >= 0, got ${String(maxWaitMs)}`);
  let active = 0;
  // FIFO; a Set lets a waiter that timed out or was aborted leave at once.
  const queue = new Set<Waiter>();

  function release(): void {
    const next = queue.values().next();
    // The slot passes straight to the next waiter: a newcomer cannot overtake the queue.
    if (!next.done) next.value.grant();
    else active--;
  }

  function acquire(districtId: string, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(new UpstreamError('UPSTREAM_ABORTED', 'aborted before it was sent', districtId));
    if (active < max && queue.size === 0) {
      active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        queue.delete(waiter);
      };
      const waiter: Waiter = {
        grant() {
          leave();
          resolve();
        },
      };
      const timer = setTimeout(() => {
        leave();
        reject(new UpstreamError('UPSTREAM_BUSY', `background work is busy: no slot within ${maxWaitMs} ms`, districtId));
      }, maxWaitMs);
      const onAbort = () => {
        leave();
        reject(new UpstreamError('UPSTREAM_ABORTED', 'aborted while waiting for a background slot', districtId));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.add(waiter);
    });
  }

  return {
    interceptor: (districtId) => (next) =>
      async function backgroundCapped(req) {
        if (req.priority !== 'background') return next(req);
        await acquire(districtId, req.signal);
        try {
          return await next(req);
        } finally {
          release();
        }
      },
    get active() {
      return active;
    },
    get waiting() {
      return queue.size;
    },
  };
}
