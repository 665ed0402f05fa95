// One line per change of state: a key failing over and over is one warning, reminders at most
// every summaryEveryMs, and one line when it recovers.
import { describe, expect, it } from 'vitest';
import { createIncidents, incidentLine } from '../../src/core/incidents.js';

const MIN = 60_000;
const MESSAGES = { entered: 'x failed', still: 'x still failing', recovered: 'x recovered' };

describe('incidents', () => {
  it('notes the start, a reminder at most every summaryEveryMs, and the recovery', () => {
    const incidents = createIncidents({ summaryEveryMs: 15 * MIN });
    const notes = [];
    // A failure every 5 minutes for an hour.
    for (let t = 0; t <= 60 * MIN; t += 5 * MIN) notes.push(incidents.failed('d1', 'UPSTREAM_TIMEOUT', t));
    const told = notes.filter((n) => n !== undefined);
    expect(told).toEqual([
      { kind: 'entered', cause: 'UPSTREAM_TIMEOUT' },
      { kind: 'still', cause: 'UPSTREAM_TIMEOUT', firstCause: 'UPSTREAM_TIMEOUT', since: 0, attempts: 4 },
      { kind: 'still', cause: 'UPSTREAM_TIMEOUT', firstCause: 'UPSTREAM_TIMEOUT', since: 0, attempts: 7 },
      { kind: 'still', cause: 'UPSTREAM_TIMEOUT', firstCause: 'UPSTREAM_TIMEOUT', since: 0, attempts: 10 },
      { kind: 'still', cause: 'UPSTREAM_TIMEOUT', firstCause: 'UPSTREAM_TIMEOUT', since: 0, attempts: 13 },
    ]);
    expect(incidents.cause('d1')).toBe('UPSTREAM_TIMEOUT');
    expect(incidents.ok('d1')).toEqual({ kind: 'recovered', cause: 'UPSTREAM_TIMEOUT', since: 0, attempts: 13 });
    expect(incidents.ok('d1')).toBeUndefined();
    expect(incidents.cause('d1')).toBeUndefined();
    // A new failure after the recovery is a new incident.
    expect(incidents.failed('d1', 'UPSTREAM_TIMEOUT', 61 * MIN)).toEqual({ kind: 'entered', cause: 'UPSTREAM_TIMEOUT' });
  });

  it('keeps one incident when the cause changes while failing; the reminder names both', () => {
    const incidents = createIncidents({ summaryEveryMs: 10 * MIN });
    expect(incidents.failed('d1', 'UPSTREAM_TIMEOUT', 0)?.kind).toBe('entered');
    expect(incidents.failed('d1', 'UPSTREAM_CIRCUIT_OPEN', MIN)).toBeUndefined();
    const still = incidents.failed('d1', 'UPSTREAM_CIRCUIT_OPEN', 10 * MIN)!;
    expect(incidentLine(still, MESSAGES, { district: 'd1' })).toEqual({
      level: 'warn',
      line: { msg: 'x still failing', district: 'd1', cause: 'UPSTREAM_CIRCUIT_OPEN', firstCause: 'UPSTREAM_TIMEOUT', since: '1970-01-01T00:00:00.000Z', attempts: 3 },
    });
    expect(incidentLine(incidents.ok('d1')!, MESSAGES, { district: 'd1' })).toEqual({
      level: 'info',
      line: { msg: 'x recovered', district: 'd1', cause: 'UPSTREAM_CIRCUIT_OPEN', since: '1970-01-01T00:00:00.000Z', attempts: 3 },
    });
  });

  it('keeps districts apart and remembers at most maxKeys incidents', () => {
    const incidents = createIncidents({ maxKeys: 2 });
    expect(incidents.failed('a', 'e', 0)?.kind).toBe('entered');
    expect(incidents.failed('b', 'e', 0)?.kind).toBe('entered');
    expect(incidents.failed('a', 'e', 1)).toBeUndefined();
    expect(incidents.failed('c', 'e', 2)?.kind).toBe('entered');
    // 'a', the oldest, was forgotten to make room.
    expect(incidents.cause('a')).toBeUndefined();
    expect(incidents.cause('b')).toBe('e');
    expect(() => createIncidents({ summaryEveryMs: 0 })).toThrow(/summaryEveryMs/);
    expect(() => createIncidents({ maxKeys: 0 })).toThrow(/maxKeys/);
  });
});
