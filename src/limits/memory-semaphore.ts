// Slots per key in this process, granted first come first served: the 'memory' store, and
// the fallback of the Redis one. leaseMs has no use here (a holder cannot outlive the process).
import { checkAcquire } from './options.js';
import type { Release, Semaphore } from './types.js';

interface Waiter {
  limit: number;
  grant(): void;
}

interface Slots {
  held: number;
  queue: Waiter[];
}

export interface MemorySemaphore extends Semaphore {
  /** Slots held for `key` in this process; for tests. */
  held(key: string): number;
}

export function createMemorySemaphore(): MemorySemaphore {
  const slots = new Map<string, Slots>();

  const forget = (key: string, s: Slots) => {
    if (s.held === 0 && s.queue.length === 0 && slots.get(key) === s) slots.delete(key);
  };
  // Strictly in order: a waiter never overtakes an earlier one.
  const drain = (key: string, s: Slots) => {
    while (s.queue.length > 0 && s.held < s.queue[0]!.limit) s.queue.shift()!.grant();
    forget(key, s);
  };
  const releaser = (key: string, s: Slots): Release => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      s.held--;
      drain(key, s);
    };
  };

  return {
    held: (key) => slots.get(key)?.held ?? 0,
    async acquire(key, limit, opts) {
      checkAcquire(key, limit, opts);
      const { signal, timeoutMs } = opts;
      signal?.throwIfAborted();
      let s = slots.get(key);
      if (!s) slots.set(key, (s = { held: 0, queue: [] }));
      const entry = s;
      if (entry.queue.length === 0 && entry.held < limit) {
        entry.held++;
        return releaser(key, entry);
      }
      if (timeoutMs <= 0) return undefined;
      return new Promise<Release | undefined>((resolve, reject) => {
        const leave = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const i = entry.queue.indexOf(waiter);
          if (i >= 0) entry.queue.splice(i, 1);
        };
        const waiter: Waiter = {
          limit,
          grant() {
            leave();
            entry.held++;
            resolve(releaser(key, entry));
          },
        };
        const timer = setTimeout(() => {
          leave();
          drain(key, entry); // a later waiter with a higher limit may go now
          resolve(undefined);
        }, timeoutMs);
        function onAbort() {
          leave();
          drain(key, entry);
          reject(signal!.reason);
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        entry.queue.push(waiter);
      });
    },
  };
}
