// One contract for every store the limits run on (memory, Redis), like test/cache/store-contract.ts:
// whatever the store, the upstream client and the HTTP layer see the same behaviour. Redis
// reads its own clock (TIME), so refills are shown with short real waits, not a fake clock.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LimitOptionError, type Limits, type LimitsOptions, type Release } from '../../src/limits/index.js';

export type MakeLimits = (extra?: Partial<LimitsOptions>) => Promise<Limits>;

export interface ContractOptions {
  /** Two instances from `make` share their store (Redis): enables the cross-instance cases. */
  shared: boolean;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const uid = () => randomUUID().slice(0, 8);

/** Runs `workers` loops that each hold a slot `rounds` times, counting the holders at any moment. */
export async function crowd(instances: Limits[], key: string, limit: number, workers: number, rounds: number) {
  let holding = 0;
  let most = 0;
  let granted = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const { semaphore } = instances[w % instances.length]!;
      for (let r = 0; r < rounds; r++) {
        const release = await semaphore.acquire(key, limit, { timeoutMs: 10_000, leaseMs: 5_000 });
        if (!release) throw new Error('no slot within 10 s');
        granted++;
        most = Math.max(most, ++holding);
        await sleep(5 + ((w * 7 + r * 3) % 11));
        holding--;
        release();
      }
    }),
  );
  return { most, granted };
}

export function limitsContract(name: string, make: MakeLimits, { shared }: ContractOptions): void {
  describe(`limits contract: ${name}`, () => {
    const open: Limits[] = [];
    const limits = async (extra?: Partial<LimitsOptions>) => {
      const l = await make(extra);
      open.push(l);
      return l;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((l) => l.close()));
    });

    describe('rate', () => {
      // Refills so slowly that the test's own time does not count.
      const slow = { requestsPerSecond: 0.001, burst: 3 };

      it('allows the burst, then refuses with the time until a token is back', async () => {
        const { rate } = await limits();
        const key = `k-${uid()}`;
        const r = { requestsPerSecond: 1, burst: 3 };
        const taken = [await rate.take(key, 1, r), await rate.take(key, 1, r), await rate.take(key, 1, r)];
        expect(taken.map((t) => t.ok)).toEqual([true, true, true]);
        expect(taken.map((t) => t.retryAfterMs)).toEqual([0, 0, 0]);
        expect(taken[0]!.remaining).toBeCloseTo(2, 1);
        expect(taken[2]!.remaining).toBeLessThan(0.1);
        const refused = await rate.take(key, 1, r);
        expect(refused.ok).toBe(false);
        // One token a second, and (almost) none left: about a second.
        expect(refused.retryAfterMs).toBeGreaterThan(500);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(1_000);
        expect(refused.remaining).toBeLessThan(0.2);
        // Refusing spends nothing.
        const again = await rate.take(key, 1, r);
        expect(again.ok).toBe(false);
        expect(again.retryAfterMs).toBeLessThanOrEqual(refused.retryAfterMs);
      });

      it('refills over time, at requestsPerSecond', async () => {
        const { rate } = await limits();
        const key = `k-${uid()}`;
        // A token every 200 ms: slow enough that a loaded machine's late timers do not blur it.
        const r = { requestsPerSecond: 5, burst: 2 };
        expect((await rate.take(key, 2, r)).ok).toBe(true);
        const refused = await rate.take(key, 1, r);
        expect(refused.ok).toBe(false);
        expect(refused.retryAfterMs).toBeGreaterThan(120);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(200);
        await sleep(refused.retryAfterMs + 20);
        expect((await rate.take(key, 1, r)).ok).toBe(true);
        const next = await rate.take(key, 1, r);
        expect(next.ok).toBe(false);
        expect(next.retryAfterMs).toBeLessThanOrEqual(200);
        await sleep(500); // full again, and never more than the burst
        expect((await rate.take(key, 2, r)).ok).toBe(true);
        expect((await rate.take(key, 1, r)).ok).toBe(false);
      });

      it('takes fractional costs exactly, and waits for the whole cost', async () => {
        const { rate } = await limits();
        const key = `k-${uid()}`;
        const r = { requestsPerSecond: 0.0001, burst: 1 }; // refills 0.0001 a second: nothing here
        for (let i = 0; i < 5; i++) expect((await rate.take(key, 0.2, r)).ok).toBe(true);
        const refused = await rate.take(key, 0.2, r);
        expect(refused.ok).toBe(false);
        expect(refused.retryAfterMs).toBeGreaterThan(1_990_000); // 0.2 token at 0.0001/s: 2000 s
        expect(refused.retryAfterMs).toBeLessThanOrEqual(2_000_000);

        const other = `k-${uid()}`;
        expect((await rate.take(other, 0.75, r)).remaining).toBeCloseTo(0.25, 3);
        const half = await rate.take(other, 0.5, r);
        expect(half.ok).toBe(false);
        expect(half.remaining).toBeCloseTo(0.25, 2);
        expect(half.retryAfterMs).toBeGreaterThan(2_490_000); // the missing 0.25: 2500 s
        expect(half.retryAfterMs).toBeLessThanOrEqual(2_500_000);
        expect((await rate.take(other, 0.25, r)).ok).toBe(true);
      });

      it('keeps keys apart', async () => {
        const { rate } = await limits();
        const [a, b] = [`a-${uid()}`, `b-${uid()}`];
        expect((await rate.take(a, 3, slow)).ok).toBe(true);
        expect((await rate.take(a, 1, slow)).ok).toBe(false);
        expect((await rate.take(b, 3, slow)).ok).toBe(true);
        expect((await rate.take(`${a}:x`, 1, slow)).ok).toBe(true);
      });

      it('lets cost 0 through, even from an empty bucket', async () => {
        const { rate } = await limits();
        const key = `k-${uid()}`;
        expect((await rate.take(key, 3, slow)).ok).toBe(true);
        expect(await rate.take(key, 0, slow)).toEqual({ ok: true, retryAfterMs: 0, remaining: 3 });
        expect((await rate.take(key, 1, slow)).ok).toBe(false);
      });

      it('defaults the burst to max(1, ceil(requestsPerSecond))', async () => {
        const { rate } = await limits();
        const [a, b] = [`a-${uid()}`, `b-${uid()}`];
        const oks = async (key: string, rps: number, n: number) => {
          const out: boolean[] = [];
          for (let i = 0; i < n; i++) out.push((await rate.take(key, 1, { requestsPerSecond: rps })).ok);
          return out.filter(Boolean).length;
        };
        expect(await oks(a, 2.5, 5)).toBe(3);
        expect(await oks(b, 0.001, 3)).toBe(1);
      });

      it('rejects nonsense arguments with LimitOptionError', async () => {
        const { rate } = await limits();
        const bad: Array<[string, number, { requestsPerSecond: number; burst?: number }]> = [
          ['k', 1, { requestsPerSecond: 0 }],
          ['k', 1, { requestsPerSecond: -1 }],
          ['k', 1, { requestsPerSecond: Number.NaN }],
          ['k', 1, { requestsPerSecond: Infinity }],
          ['k', 1, { requestsPerSecond: 1, burst: 0 }],
          ['k', 2, { requestsPerSecond: 1, burst: 1 }],
          ['k', -1, { requestsPerSecond: 1 }],
          ['k', Number.NaN, { requestsPerSecond: 1 }],
          ['', 1, { requestsPerSecond: 1 }],
        ];
        for (const [key, cost, r] of bad) await expect(rate.take(key, cost, r)).rejects.toThrow(LimitOptionError);
      });

      if (shared) it('shares one budget between two instances', async () => {
        const [a, b] = [await limits(), await limits()];
        const key = `k-${uid()}`;
        const r = { requestsPerSecond: 0.001, burst: 5 };
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).rate.take(key, 1, r)));
        expect(results.filter((t) => t.ok)).toHaveLength(5);
        expect((await a.rate.take(key, 1, r)).ok).toBe(false);
        expect((await b.rate.take(key, 1, r)).ok).toBe(false);
      });
    });

    describe('semaphore', () => {
      const opts = { timeoutMs: 0, leaseMs: 5_000 };

      it('grants up to the limit, then nothing within the timeout', async () => {
        const { semaphore } = await limits();
        const key = `s-${uid()}`;
        const held = [await semaphore.acquire(key, 2, opts), await semaphore.acquire(key, 2, opts)];
        expect(held.every((r) => typeof r === 'function')).toBe(true);
        expect(await semaphore.acquire(key, 2, opts)).toBeUndefined();
        const start = performance.now();
        expect(await semaphore.acquire(key, 2, { ...opts, timeoutMs: 150 })).toBeUndefined();
        const waited = performance.now() - start;
        expect(waited).toBeGreaterThanOrEqual(140);
        expect(waited).toBeLessThan(1_000);
        held[0]!();
        expect(await semaphore.acquire(key, 2, opts)).toBeTypeOf('function');
      });

      it('keeps keys apart', async () => {
        const { semaphore } = await limits();
        const [a, b] = [`a-${uid()}`, `b-${uid()}`];
        expect(await semaphore.acquire(a, 1, opts)).toBeTypeOf('function');
        expect(await semaphore.acquire(a, 1, opts)).toBeUndefined();
        expect(await semaphore.acquire(b, 1, opts)).toBeTypeOf('function');
      });

      it('wakes a waiter when a slot is released', async () => {
        const { semaphore } = await limits();
        const key = `s-${uid()}`;
        const release = (await semaphore.acquire(key, 1, opts))!;
        const waiter = semaphore.acquire(key, 1, { ...opts, timeoutMs: 5_000 });
        await sleep(50);
        const start = performance.now();
        release();
        const next = await waiter;
        expect(next).toBeTypeOf('function');
        expect(performance.now() - start).toBeLessThan(500);
        expect(await semaphore.acquire(key, 1, opts)).toBeUndefined();
        next!();
      });

      it('releases once, however often release is called', async () => {
        const { semaphore } = await limits();
        const key = `s-${uid()}`;
        const first = (await semaphore.acquire(key, 2, opts))!;
        await semaphore.acquire(key, 2, opts);
        first();
        first();
        await sleep(20);
        expect(await semaphore.acquire(key, 2, opts)).toBeTypeOf('function');
        expect(await semaphore.acquire(key, 2, opts)).toBeUndefined();
      });

      it('never has more holders than the limit, and serves everyone in the end', async () => {
        const instances = shared ? [await limits(), await limits()] : [await limits()];
        const { most, granted } = await crowd(instances, `s-${uid()}`, 3, 10, 4);
        expect(most).toBe(3);
        expect(granted).toBe(40);
      });

      it('keeps the slot of a holder that outlives its leaseMs (it renews)', async () => {
        const { semaphore } = await limits();
        const key = `s-${uid()}`;
        const release = (await semaphore.acquire(key, 1, { timeoutMs: 0, leaseMs: 60 }))!;
        await sleep(300);
        expect(await semaphore.acquire(key, 1, { timeoutMs: 0, leaseMs: 60 })).toBeUndefined();
        release();
      });

      it('stops waiting when the signal aborts, and takes no slot then', async () => {
        const { semaphore } = await limits();
        const key = `s-${uid()}`;
        const reason = new Error('client went away');
        await expect(semaphore.acquire(key, 1, { ...opts, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
        const release = (await semaphore.acquire(key, 1, opts))!;
        const controller = new AbortController();
        const waiting = semaphore.acquire(key, 1, { ...opts, timeoutMs: 5_000, signal: controller.signal });
        await sleep(30);
        const start = performance.now();
        controller.abort(reason);
        await expect(waiting).rejects.toBe(reason);
        expect(performance.now() - start).toBeLessThan(200);
        release();
        await sleep(20);
        const again = await semaphore.acquire(key, 1, opts);
        expect(again).toBeTypeOf('function');
        again!();
      });

      it('rejects nonsense arguments with LimitOptionError', async () => {
        const { semaphore } = await limits();
        const cases: Array<[string, number, { timeoutMs: number; leaseMs: number }]> = [
          ['k', 0, opts],
          ['k', 1.5, opts],
          ['k', Number.NaN, opts],
          ['k', 1, { timeoutMs: -1, leaseMs: 1_000 }],
          ['k', 1, { timeoutMs: Number.NaN, leaseMs: 1_000 }],
          ['k', 1, { timeoutMs: 0, leaseMs: 0 }],
          ['', 1, opts],
        ];
        for (const [key, limit, o] of cases) await expect(semaphore.acquire(key, limit, o)).rejects.toThrow(LimitOptionError);
      });

      if (shared) it('shares the slots between instances, and wakes a waiter on the other one', async () => {
        const [a, b] = [await limits(), await limits()];
        const key = `s-${uid()}`;
        const release = (await a.semaphore.acquire(key, 1, opts))!;
        expect(await b.semaphore.acquire(key, 1, opts)).toBeUndefined();
        const waiter = b.semaphore.acquire(key, 1, { ...opts, timeoutMs: 5_000 });
        await sleep(50);
        release();
        const next = await waiter;
        expect(next).toBeTypeOf('function');
        expect(await a.semaphore.acquire(key, 1, opts)).toBeUndefined();
        next!();
      });

      if (shared) it("reclaims a crashed holder's slot once its lease runs out", async () => {
        const crashed = await make();
        const other = await limits();
        const key = `s-${uid()}`;
        expect(await crashed.semaphore.acquire(key, 1, { timeoutMs: 0, leaseMs: 150 })).toBeTypeOf('function');
        await crashed.close(); // never released, and no more renewals
        expect(await other.semaphore.acquire(key, 1, opts)).toBeUndefined();
        const start = performance.now();
        const got = await other.semaphore.acquire(key, 1, { ...opts, timeoutMs: 3_000 });
        expect(got).toBeTypeOf('function');
        expect(performance.now() - start).toBeLessThan(1_000);
      });
    });

    it('closes idempotently', async () => {
      const l = await make();
      await Promise.all([l.close(), l.close()]);
      await l.close();
    });
  });
}
