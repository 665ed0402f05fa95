import { describe, expect, it } from 'vitest';
import { judgePull, type PulledCollection } from '../../src/mirror/publish-guard.js';

const pulled = (collection: PulledCollection['collection'], count: number, extra: Partial<PulledCollection> = {}): PulledCollection => ({ collection, count, total: count, complete: true, ...extra });

describe('judgePull', () => {
  const guard = { shrinkGuardPercent: 20 };

  it('publishes a complete first pull whose counts agree with the district', () => {
    expect(judgePull([pulled('orgs', 3), pulled('users', 100)], undefined, guard)).toEqual({ publish: true });
  });

  it('refuses a collection not read to its end', () => {
    expect(judgePull([pulled('orgs', 3), pulled('users', 50, { complete: false })], undefined, guard)).toMatchObject({ publish: false, collection: 'users' });
  });

  it("refuses a count that disagrees with the district's X-Total-Count, and accepts one without a total", () => {
    expect(judgePull([pulled('users', 99, { total: 100 })], undefined, guard)).toMatchObject({ publish: false, collection: 'users', reason: expect.stringContaining('the district counts 100') });
    expect(judgePull([pulled('users', 99, { total: undefined })], undefined, guard)).toEqual({ publish: true });
  });

  it('refuses a collection empty now that was not, even when the district agrees it is empty', () => {
    expect(judgePull([pulled('orgs', 3), pulled('users', 0)], { orgs: 3, users: 10 }, guard)).toMatchObject({ publish: false, collection: 'users', reason: expect.stringContaining('empty') });
    expect(judgePull([pulled('orgs', 3), pulled('users', 0)], { orgs: 3, users: 0 }, guard)).toEqual({ publish: true });
  });

  it('refuses a shrink past shrinkGuardPercent, and accepts one at it or a forced one', () => {
    expect(judgePull([pulled('users', 79)], { users: 100 }, guard)).toMatchObject({ publish: false, reason: expect.stringContaining('21% > shrinkGuardPercent 20') });
    expect(judgePull([pulled('users', 80)], { users: 100 }, guard)).toEqual({ publish: true });
    expect(judgePull([pulled('users', 10)], { users: 100 }, { ...guard, force: true })).toEqual({ publish: true });
    expect(judgePull([pulled('users', 0)], { users: 100 }, { ...guard, force: true })).toMatchObject({ publish: false });
  });

  it('lets a collection grow without bound, and a new collection in', () => {
    expect(judgePull([pulled('users', 5000), pulled('demographics', 40)], { users: 100 }, guard)).toEqual({ publish: true });
  });

  it('refuses a first copy in which every collection is empty', () => {
    expect(judgePull([pulled('orgs', 0), pulled('users', 0)], undefined, guard)).toMatchObject({ publish: false, reason: 'every collection is empty' });
  });
});
