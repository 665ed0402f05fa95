// A district whose version cannot be probed is asked again by every delta poll and client; it
// warns once, reminds at most every 15 minutes, and says when it answers.
import { describe, expect, it } from 'vitest';
import { createVersionProbe } from '../../src/upstream/version-probe.js';
import { UpstreamError, type UpstreamRequest, type UpstreamResponse } from '../../src/upstream/types.js';

describe('version probe logs', () => {
  it('one warning for a probe failing for an hour, reminders every 15 minutes, one line when it answers', async () => {
    let clock = Date.parse('2026-01-05T07:00:00Z');
    let down = true;
    const lines: Array<{ level: string; msg: string } & Record<string, unknown>> = [];
    const logger = { info: (o: object) => void lines.push({ level: 'info', ...(o as { msg: string }) }), warn: (o: object) => void lines.push({ level: 'warn', ...(o as { msg: string }) }) };
    const { intercept, probe } = createVersionProbe('d1', { logger, now: () => clock });
    intercept(async (req: UpstreamRequest): Promise<UpstreamResponse> => {
      if (down) throw new UpstreamError('UPSTREAM_UNREACHABLE', 'unreachable', 'd1');
      return { status: req.path.startsWith('/rostering/v1p2') ? 404 : 200, headers: {}, body: Buffer.from('{"orgs":[]}'), elapsedMs: 1 };
    });
    // Asked every 30 s for an hour.
    for (let i = 0; i < 120; i++) {
      await probe.settle().catch(() => undefined);
      clock += 30_000;
    }
    down = false;
    expect(await probe.settle()).toBe('v1p1');
    expect(lines.map((l) => `${l.level}:${l.msg}`)).toEqual([
      'warn:district version probe failed',
      // At 15, 30 and 45 minutes (the last probe is at 59:30).
      'warn:district version probe still failing',
      'warn:district version probe still failing',
      'warn:district version probe still failing',
      'info:district version probed',
    ]);
    expect(lines[0]).toMatchObject({ district: 'd1', cause: 'UPSTREAM_UNREACHABLE', failure: 'UPSTREAM_UNREACHABLE' });
    expect(lines.at(-1)).toMatchObject({ district: 'd1', version: 'v1p1', failedSince: '2026-01-05T07:00:00.000Z', failedAttempts: 120 });
  });
});
