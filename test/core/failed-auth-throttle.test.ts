// The failed-authentication throttle on the limits' own memory buckets, with a fake clock.
import { describe, expect, it } from 'vitest';
import { createFailedAuthThrottle, type ThrottleTake } from '../../src/auth/failed-auth-throttle.js';
import { createMemoryRateLimiter } from '../../src/limits/memory-rate.js';

function setup(o: { perClient?: number; perAddress?: number; windowSeconds?: number } = {}) {
  let now = 1_700_000_000_000;
  const clock = () => now;
  const limiter = createMemoryRateLimiter(clock);
  const keys: string[] = [];
  const take: ThrottleTake = (key, cost, rate) => {
    keys.push(key);
    return limiter.take(key, cost, rate);
  };
  const throttle = createFailedAuthThrottle({ perClient: 3, perAddress: 5, windowSeconds: 60, ...o, take, now: clock });
  return { throttle, take, keys, clock, advance: (ms: number) => (now += ms) };
}

describe('failed-auth throttle', () => {
  it('blocks a client id after perClient failures in the window, until one failure has refilled', async () => {
    const { throttle, advance } = setup();
    const k = { clientId: 'app', address: '10.0.0.1' };
    for (let i = 0; i < 2; i++) {
      expect(throttle.blockedFor(k)).toBe(0);
      expect((await throttle.failed(k)).blockedMs).toBe(0);
    }
    // The third failure is the last one allowed: the fourth attempt is refused before its secret is checked.
    const third = await throttle.failed(k);
    expect(third.by).toEqual(['client']);
    expect(third.blockedMs).toBe(20_000); // one failure back every 60 s / 3
    expect(throttle.blockedFor(k)).toBe(20_000);
    // The same id from anywhere is blocked; another id from the same address is not.
    expect(throttle.blockedFor({ clientId: 'app', address: '10.9.9.9' })).toBe(20_000);
    expect(throttle.blockedFor({ clientId: 'other', address: '10.0.0.1' })).toBe(0);
    advance(19_999);
    expect(throttle.blockedFor(k)).toBe(1);
    advance(1);
    expect(throttle.blockedFor(k)).toBe(0);
    // One refilled failure: the next failure blocks again at once.
    expect((await throttle.failed(k)).blockedMs).toBe(20_000);
  });

  it('blocks an address after perAddress failures, whatever ids it tried', async () => {
    const { throttle } = setup();
    for (let i = 0; i < 4; i++) expect((await throttle.failed({ clientId: `guess-${i}`, address: '10.0.0.2' })).blockedMs).toBe(0);
    const fifth = await throttle.failed({ clientId: 'guess-4', address: '10.0.0.2' });
    expect(fifth.by).toEqual(['address']);
    expect(throttle.blockedFor({ clientId: 'innocent', address: '10.0.0.2' })).toBe(12_000);
    expect(throttle.blockedFor({ clientId: 'innocent', address: '10.0.0.3' })).toBe(0);
    // No id sent: the address alone counts.
    expect(throttle.blockedFor({ clientId: undefined, address: '10.0.0.2' })).toBe(12_000);
  });

  it('learns of a bucket another replica emptied at its own next failure', async () => {
    const { take, clock, advance } = setup();
    const a = createFailedAuthThrottle({ perClient: 3, perAddress: 100, windowSeconds: 60, take, now: clock });
    const b = createFailedAuthThrottle({ perClient: 3, perAddress: 100, windowSeconds: 60, take, now: clock });
    for (let i = 0; i < 3; i++) await a.failed({ clientId: 'app', address: '10.0.0.1' });
    expect(a.blockedFor({ clientId: 'app', address: undefined })).toBeGreaterThan(0);
    expect(b.blockedFor({ clientId: 'app', address: undefined })).toBe(0);
    advance(1000);
    const refused = await b.failed({ clientId: 'app', address: '10.0.0.4' });
    expect(refused).toEqual({ blockedMs: 19_000, by: ['client'] });
    expect(b.blockedFor({ clientId: 'app', address: undefined })).toBe(19_000);
  });

  it('keys the store by the id as sent when it is short and printable, by its hash otherwise', async () => {
    const { throttle, keys } = setup();
    await throttle.failed({ clientId: 'app', address: '::1' });
    await throttle.failed({ clientId: `x${'y'.repeat(500)}`, address: undefined });
    await throttle.failed({ clientId: 'sp ace\n', address: undefined });
    expect(keys[0]).toBe('failed-auth:client:app');
    expect(keys[1]).toBe('failed-auth:address:::1');
    expect(keys[2]).toMatch(/^failed-auth:client:sha256-[\w-]{43}$/);
    expect(keys[3]).toMatch(/^failed-auth:client:sha256-[\w-]{43}$/);
  });

  it('forgets the oldest blocks past maxBlocked', async () => {
    const now = 0;
    const limiter = createMemoryRateLimiter(() => now);
    const throttle = createFailedAuthThrottle({ perClient: 1, perAddress: 1000, windowSeconds: 60, take: (k, c, r) => limiter.take(k, c, r), now: () => now, maxBlocked: 2 });
    for (const id of ['a', 'b', 'c']) await throttle.failed({ clientId: id, address: undefined });
    expect(['a', 'b', 'c'].map((id) => throttle.blockedFor({ clientId: id, address: undefined }) > 0)).toEqual([false, true, true]);
  });

  it('refuses nonsense options when built', () => {
    const take: ThrottleTake = async () => ({ ok: true, retryAfterMs: 0, remaining: 1 });
    expect(() => createFailedAuthThrottle({ perClient: 0, perAddress: 1, windowSeconds: 1, take })).toThrow(/perClient/);
    expect(() => createFailedAuthThrottle({ perClient: 1, perAddress: 1.5, windowSeconds: 1, take })).toThrow(/perAddress/);
    expect(() => createFailedAuthThrottle({ perClient: 1, perAddress: 1, windowSeconds: 0, take })).toThrow(/windowSeconds/);
    expect(() => createFailedAuthThrottle({ perClient: 1, perAddress: 1, windowSeconds: 1 } as never)).toThrow(/take/);
  });
});
