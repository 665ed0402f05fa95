// The failed-authentication throttle on the limits' own memory buckets, with a fake clock.
import { describe, expect, it } from 'vitest';
import { CEILING_FACTOR, createFailedAuthThrottle, type ThrottleTake } from '../../src/auth/failed-auth-throttle.js';
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
  it('blocks a client id from one address after perClient failures there, until one failure has refilled', async () => {
    const { throttle, advance } = setup();
    const k = { clientId: 'app', address: '10.0.0.1' };
    for (let i = 0; i < 2; i++) {
      expect(throttle.blockedFor(k)).toBe(0);
      expect((await throttle.failed(k)).blockedMs).toBe(0);
    }
    // The third failure is the last one allowed: the fourth attempt is refused before its secret is checked.
    const third = await throttle.failed(k);
    expect(third.by).toEqual(['client-address']);
    expect(third.blockedMs).toBe(20_000); // one failure back every 60 s / 3
    expect(throttle.blockedFor(k)).toBe(20_000);
    // Client ids are not secret: the same id from another address is not held, nor another id from this one.
    expect(throttle.blockedFor({ clientId: 'app', address: '10.9.9.9' })).toBe(0);
    expect(throttle.blockedFor({ clientId: 'other', address: '10.0.0.1' })).toBe(0);
    advance(19_999);
    expect(throttle.blockedFor(k)).toBe(1);
    advance(1);
    expect(throttle.blockedFor(k)).toBe(0);
    // One refilled failure: the next failure blocks again at once.
    expect((await throttle.failed(k)).blockedMs).toBe(20_000);
  });

  it('never holds the real client while an attacker at another address spends each refill at once', async () => {
    const { throttle, advance } = setup();
    const attacker = { clientId: 'app', address: '10.6.6.6' };
    const real = { clientId: 'app', address: '10.0.0.1' };
    for (let s = 0; s < 600; s++) {
      // The attacker polls every second (refusals cost nothing) and fails the moment it may.
      if (throttle.blockedFor(attacker) === 0) await throttle.failed(attacker);
      else expect(throttle.blockedFor(attacker)).toBeGreaterThan(0);
      expect(throttle.blockedFor(real)).toBe(0);
      advance(1000);
    }
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

  it(`past the per-id ceiling (perClient x ${CEILING_FACTOR}) holds the addresses that failed for the id, not clean ones`, async () => {
    const { throttle, advance } = setup({ perClient: 3, perAddress: 100 });
    const from = (i: number) => ({ clientId: 'app', address: `10.1.0.${i}` });
    // One failure from each of 15 addresses: no address reaches perClient, the id reaches 15.
    for (let i = 0; i < 14; i++) expect(await throttle.failed(from(i))).toEqual({ blockedMs: 0, by: [] });
    const last = await throttle.failed(from(14));
    expect(last).toEqual({ blockedMs: 4_000, by: ['client'] }); // one failure back every 60 s / 15
    for (let i = 0; i < 15; i++) expect(throttle.blockedFor(from(i))).toBe(4_000);
    // A clean address, and another id from a failing address, are still checked.
    expect(throttle.blockedFor(from(99))).toBe(0);
    expect(throttle.blockedFor({ clientId: 'other', address: '10.1.0.1' })).toBe(0);
    // A fresh address gets its one guess; failing makes it a failing address.
    expect((await throttle.failed(from(100))).blockedMs).toBeGreaterThan(0);
    expect(throttle.blockedFor(from(100))).toBeGreaterThan(0);
    expect(throttle.blockedFor(from(101))).toBe(0);
    // Once the ceiling has refilled a failure, one failing address may be checked again, and its failure closes it.
    advance(4_000);
    expect(throttle.blockedFor(from(3))).toBe(0);
    expect(await throttle.failed(from(3))).toEqual({ blockedMs: 4_000, by: ['client'] });
    expect(throttle.blockedFor(from(4))).toBe(4_000);
    // An address whose last failure for the id has left the window is clean again, even past the ceiling.
    advance(56_000);
    for (let i = 200; i < 215; i++) await throttle.failed(from(i));
    expect(throttle.blockedFor(from(200))).toBeGreaterThan(0);
    expect(throttle.blockedFor(from(5))).toBe(0);
    expect(throttle.blockedFor(from(3))).toBeGreaterThan(0); // failed 56 s ago
  });

  it('learns of a bucket another replica emptied at its own next failure', async () => {
    const { take, clock, advance } = setup();
    const a = createFailedAuthThrottle({ perClient: 3, perAddress: 100, windowSeconds: 60, take, now: clock });
    const b = createFailedAuthThrottle({ perClient: 3, perAddress: 100, windowSeconds: 60, take, now: clock });
    const k = { clientId: 'app', address: '10.0.0.1' };
    for (let i = 0; i < 3; i++) await a.failed(k);
    expect(a.blockedFor(k)).toBeGreaterThan(0);
    expect(b.blockedFor(k)).toBe(0);
    advance(1000);
    // The pair's bucket had refilled 1/20 of a failure: b's failure is refused by the store.
    const refused = await b.failed(k);
    expect(refused).toEqual({ blockedMs: 19_000, by: ['client-address'] });
    expect(b.blockedFor(k)).toBe(19_000);
    expect(b.blockedFor({ clientId: 'app', address: '10.0.0.2' })).toBe(0);
  });

  it('keys the store by the id and address as sent when short and printable, by their hash otherwise', async () => {
    const { throttle, keys } = setup();
    await throttle.failed({ clientId: 'app', address: '::1' });
    await throttle.failed({ clientId: `x${'y'.repeat(500)}`, address: undefined });
    await throttle.failed({ clientId: 'sp ace\n', address: 'not|an ip' });
    expect(keys.slice(0, 3)).toEqual(['failed-auth:address:::1', 'failed-auth:client-address:::1|app', 'failed-auth:client:app']);
    // No address known: the id's failures share one ('-').
    expect(keys[3]).toMatch(/^failed-auth:client-address:-\|sha256-[\w-]{43}$/);
    expect(keys[4]).toMatch(/^failed-auth:client:sha256-[\w-]{43}$/);
    expect(keys[5]).toMatch(/^failed-auth:address:sha256-[\w-]{43}$/);
    expect(keys[6]).toMatch(/^failed-auth:client-address:sha256-[\w-]{43}\|sha256-[\w-]{43}$/);
    expect(keys[7]).toMatch(/^failed-auth:client:sha256-[\w-]{43}$/);
    expect(keys).toHaveLength(8);
  });

  it('forgets the oldest blocks and failures past maxBlocked', async () => {
    let now = 0;
    const limiter = createMemoryRateLimiter(() => now);
    const throttle = createFailedAuthThrottle({ perClient: 1, perAddress: 1000, windowSeconds: 60, take: (k, c, r) => limiter.take(k, c, r), now: () => now, maxBlocked: 2 });
    for (const id of ['a', 'b', 'c']) await throttle.failed({ clientId: id, address: '10.0.0.1' });
    expect(['a', 'b', 'c'].map((id) => throttle.blockedFor({ clientId: id, address: '10.0.0.1' }) > 0)).toEqual([false, true, true]);
    // Many addresses failing for one id: the recent-failure memory stays at 2 too (the oldest address is clean again).
    const many = createFailedAuthThrottle({ perClient: 1, perAddress: 1000, windowSeconds: 60, take: (k, c, r) => limiter.take(k, c, r), now: () => now, maxBlocked: 2 });
    now = 1;
    for (let i = 0; i < 5; i++) await many.failed({ clientId: 'z', address: `10.2.0.${i}` });
    expect([0, 1, 2, 3, 4].map((i) => many.blockedFor({ clientId: 'z', address: `10.2.0.${i}` }) > 0)).toEqual([false, false, false, true, true]);
  });

  it('refuses nonsense options when built', () => {
    const take: ThrottleTake = async () => ({ ok: true, retryAfterMs: 0, remaining: 1 });
    expect(() => createFailedAuthThrottle({ perClient: 0, perAddress: 1, windowSeconds: 1, take })).toThrow(/perClient/);
    expect(() => createFailedAuthThrottle({ perClient: 1, perAddress: 1.5, windowSeconds: 1, take })).toThrow(/perAddress/);
    expect(() => createFailedAuthThrottle({ perClient: 1, perAddress: 1, windowSeconds: 0, take })).toThrow(/windowSeconds/);
    expect(() => createFailedAuthThrottle({ perClient: 1, perAddress: 1, windowSeconds: 1 } as never)).toThrow(/take/);
  });
});
