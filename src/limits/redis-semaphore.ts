// Slots every replica shares: a sorted set of holders scored by lease expiry. A waiter retries
// ACQUIRE with a backoff of 10 -> 100 ms, and sooner when a release is published. A holder
// renews its lease every leaseMs / 3, so only a crashed replica's slots expire. Fails open:
// while Redis is away, slots come from a local semaphore with the same limit.
import { randomUUID } from 'node:crypto';
import { checkAcquire } from './options.js';
import type { RedisLimitsDeps } from './redis-health.js';
import { ACQUIRE, RELEASE, RENEW, runScript } from './redis-scripts.js';
import type { Release, Semaphore } from './types.js';

const FIRST_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 100;

/** Wakes the waiters of a key when another replica (or this one) publishes a release. */
export interface Wakeups {
  wake(key: string): void;
  wakeAll(): void;
  /** Resolves after `ms`, at a wake-up of `key`, or rejects when `signal` aborts. */
  wait(key: string, ms: number, signal: AbortSignal | undefined): Promise<void>;
}

export function createWakeups(): Wakeups {
  const waiting = new Map<string, Set<() => void>>();
  const wakeSet = (set: Set<() => void> | undefined) => {
    for (const fn of set ?? []) fn();
  };
  return {
    wake: (key) => wakeSet(waiting.get(key)),
    wakeAll: () => [...waiting.values()].forEach(wakeSet),
    wait(key, ms, signal) {
      return new Promise<void>((resolve, reject) => {
        let set = waiting.get(key);
        if (!set) waiting.set(key, (set = new Set()));
        const own = set;
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          own.delete(done);
          if (own.size === 0 && waiting.get(key) === own) waiting.delete(key);
          resolve();
        };
        const timer = setTimeout(done, ms);
        function onAbort() {
          done();
          reject(signal!.reason);
        }
        own.add(done);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

export interface RedisSemaphore extends Semaphore {
  /** Stops renewing every lease of this instance (close: their slots then expire). */
  stop(): void;
}

type Attempt = 'held' | 'busy' | 'down';

export function createRedisSemaphore(redis: RedisLimitsDeps, local: Semaphore, wakeups: Wakeups): RedisSemaphore {
  const { keys, health, call, client } = redis;
  const instance = randomUUID();
  let seq = 0;
  const renewals = new Set<NodeJS.Timeout>();
  let stopped = false;

  const releaseRemote = (key: string, id: string) =>
    call(() => runScript(client, RELEASE, [keys.semaphore(key)], [id, keys.released, key])).then(
      () => undefined,
      (err: unknown) => health.fail('release', err), // the lease runs out by itself
    );

  async function attempt(key: string, id: string, limit: number, leaseMs: number): Promise<Attempt> {
    let sent: Promise<unknown> | undefined;
    try {
      const got = await call(() => (sent = runScript(client, ACQUIRE, [keys.semaphore(key)], [id, String(limit), String(leaseMs)])));
      health.ok();
      return got === 1 ? 'held' : 'busy';
    } catch (err) {
      health.fail('acquire', err);
      // Too late is not never: a slot granted after we gave up goes back at once.
      sent?.then(
        (got) => {
          if (got === 1) void releaseRemote(key, id);
        },
        () => undefined,
      );
      return 'down';
    }
  }

  function hold(key: string, id: string, leaseMs: number): Release {
    const renew = () => {
      call(() => runScript(client, RENEW, [keys.semaphore(key)], [id, String(leaseMs)])).then(
        () => health.ok(),
        (err: unknown) => health.fail('renew', err),
      );
    };
    // After close no lease is renewed, not even one granted while closing.
    const timer = setInterval(renew, Math.floor(leaseMs / 3));
    timer.unref();
    if (stopped) clearInterval(timer);
    else renewals.add(timer);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      clearInterval(timer);
      renewals.delete(timer);
      void releaseRemote(key, id);
    };
  }

  return {
    stop() {
      stopped = true;
      for (const timer of renewals) clearInterval(timer);
      renewals.clear();
    },
    async acquire(key, limit, opts) {
      checkAcquire(key, limit, opts);
      const { signal, leaseMs } = opts;
      signal?.throwIfAborted();
      const deadline = performance.now() + opts.timeoutMs;
      const id = `${instance}:${++seq}`;
      let backoff = FIRST_BACKOFF_MS;
      for (;;) {
        const outcome = await attempt(key, id, limit, leaseMs);
        if (outcome === 'held') {
          const release = hold(key, id, leaseMs);
          if (signal?.aborted) release();
          signal?.throwIfAborted();
          return release;
        }
        signal?.throwIfAborted();
        const left = deadline - performance.now();
        if (outcome === 'down') return local.acquire(key, limit, { ...opts, timeoutMs: Math.max(0, left) });
        if (left <= 0) return undefined;
        await wakeups.wait(key, Math.min(backoff, left), signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    },
  };
}
