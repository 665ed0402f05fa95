import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLimiter } from '../../src/upstream/limiter.js';
import { UpstreamError } from '../../src/upstream/types.js';

const opts = { districtId: 'd1', maxConcurrency: 2, maxQueue: 2, queueTimeoutMs: 1000 };

function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

afterEach(() => {
  vi.useRealTimers();
});

describe('limiter', () => {
  it('runs at most maxConcurrency at once, the rest in FIFO order', async () => {
    const limiter = createLimiter({ ...opts, maxQueue: 10 });
    const gates = Array.from({ length: 6 }, deferred);
    const started: number[] = [];
    let inFlight = 0;
    let peak = 0;
    const runs = gates.map((g, i) =>
      limiter.run(async () => {
        started.push(i);
        peak = Math.max(peak, ++inFlight);
        await g.promise;
        inFlight--;
      }),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    expect(limiter.queued).toBe(4);
    gates[1]!.resolve();
    await flush();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.resolve();
    await Promise.all(runs);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
    expect(limiter.active).toBe(0);
  });

  it('answers UPSTREAM_BUSY at once when the queue is full', async () => {
    const limiter = createLimiter(opts);
    const gate = deferred();
    const held = [1, 2, 3, 4].map(() => limiter.run(() => gate.promise));
    await flush();
    expect(limiter.queued).toBe(2);
    const err = await limiter.run(async () => 'never').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).code).toBe('UPSTREAM_BUSY');
    expect((err as UpstreamError).districtId).toBe('d1');
    gate.resolve();
    await Promise.all(held);
  });

  it('answers UPSTREAM_BUSY when the wait exceeds queueTimeoutMs, and the waiter leaves the queue', async () => {
    vi.useFakeTimers();
    const limiter = createLimiter(opts);
    const gate = deferred();
    const held = [limiter.run(() => gate.promise), limiter.run(() => gate.promise)];
    const waiting = limiter.run(async () => 'late').catch((e: UpstreamError) => e.code);
    expect(limiter.queued).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(limiter.queued).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(waiting).resolves.toBe('UPSTREAM_BUSY');
    expect(limiter.queued).toBe(0);
    gate.resolve();
    await Promise.all(held);
    expect(limiter.active).toBe(0);
  });

  it('with queueTimeoutMs 0 does not wait at all', async () => {
    const limiter = createLimiter({ ...opts, maxConcurrency: 1, queueTimeoutMs: 0 });
    const gate = deferred();
    const held = limiter.run(() => gate.promise);
    await expect(limiter.run(async () => 1)).rejects.toMatchObject({ code: 'UPSTREAM_BUSY' });
    gate.resolve();
    await held;
    await expect(limiter.run(async () => 1)).resolves.toBe(1);
  });

  it('removes an aborted waiter and hands its turn to the next one', async () => {
    const limiter = createLimiter({ ...opts, maxConcurrency: 1 });
    const gate = deferred();
    const held = limiter.run(() => gate.promise);
    const ac = new AbortController();
    const aborted = limiter.run(async () => 'a', ac.signal).catch((e: UpstreamError) => e.code);
    const next = limiter.run(async () => 'b');
    expect(limiter.queued).toBe(2);
    ac.abort();
    await expect(aborted).resolves.toBe('UPSTREAM_ABORTED');
    expect(limiter.queued).toBe(1);
    gate.resolve();
    await held;
    await expect(next).resolves.toBe('b');
    await expect(limiter.run(async () => 'c', AbortSignal.abort())).rejects.toMatchObject({ code: 'UPSTREAM_ABORTED' });
    expect(limiter.active).toBe(0);
  });

  it('releases the slot when the work throws, and release is idempotent', async () => {
    const limiter = createLimiter({ ...opts, maxConcurrency: 1 });
    await expect(limiter.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(limiter.active).toBe(0);
    const release = await limiter.acquire();
    release();
    release();
    expect(limiter.active).toBe(0);
    const a = await limiter.acquire();
    expect(limiter.active).toBe(1);
    a();
  });

  it('close() fails waiters and later acquires', async () => {
    const limiter = createLimiter({ ...opts, maxConcurrency: 1 });
    const release = await limiter.acquire();
    const waiter = limiter.acquire();
    limiter.close();
    await expect(waiter).rejects.toBeInstanceOf(UpstreamError);
    await expect(limiter.acquire()).rejects.toBeInstanceOf(UpstreamError);
    release();
  });

  it('validates its options', () => {
    expect(() => createLimiter({ ...opts, maxConcurrency: 0 })).toThrow(/maxConcurrency/);
    expect(() => createLimiter({ ...opts, maxQueue: -1 })).toThrow(/maxQueue/);
    expect(() => createLimiter({ ...opts, queueTimeoutMs: 1.5 })).toThrow(/queueTimeoutMs/);
  });

  it('gives a free slot to a waiting client request before any background request, which waits outside maxQueue', async () => {
    const limiter = createLimiter({ ...opts, maxConcurrency: 1, maxQueue: 1 });
    const order: string[] = [];
    const holder = await limiter.acquire();
    const bg = [limiter.acquire(undefined, true), limiter.acquire(undefined, true)].map((p, i) => p.then((release) => (order.push(`bg${i}`), release)));
    // The queue of one is the clients': the background waiters do not fill it.
    const client = limiter.acquire().then((release) => (order.push('client'), release));
    await flush();
    expect(limiter.queued).toBe(3);
    holder();
    (await client)();
    (await bg[0]!)();
    (await bg[1]!)();
    expect(order).toEqual(['client', 'bg0', 'bg1']);
  });

  it('does not let a background request overtake waiting ones, nor start past a waiting client', async () => {
    const limiter = createLimiter({ ...opts, maxConcurrency: 2, maxQueue: 5 });
    const a = await limiter.acquire();
    const b = await limiter.acquire();
    const waiting = limiter.acquire();
    a();
    const release = await waiting;
    // One slot free now, no client waiting: background takes it at once.
    b();
    const bgRelease = await limiter.acquire(undefined, true);
    expect(limiter.active).toBe(2);
    release();
    bgRelease();
    expect(limiter.active).toBe(0);
  });

  it('fails background waiters when closed', async () => {
    const limiter = createLimiter({ ...opts, maxConcurrency: 1 });
    const holder = await limiter.acquire();
    const bg = limiter.acquire(undefined, true);
    limiter.close();
    await expect(bg).rejects.toBeInstanceOf(UpstreamError);
    holder();
  });
});
