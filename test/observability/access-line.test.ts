// The access line is written by hand (lineWriter) for speed: it must be the line pino writes
// for the same fields, byte for byte but for the time, and a valid JSON line whatever a
// configured id holds.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, lineWriter } from '../../src/observability/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger({ destination }) };
}

const withoutTime = (line: string) => line.replace(/"time":"[^"]*"/, '"time":"T"');

describe('the hand-written access line', () => {
  it("is pino's line for the same fields, time aside, with undefined fields left out", async () => {
    const { lines, logger } = capture();
    const fields = { msg: 'request', requestId: 'r-1', method: 'GET', route: 'GET /ims/oneroster/v1p1/users', clientId: 'app "one"\\ é\u2028', district: 'd\n1', status: 200, cache: 'HIT', upstreamMs: undefined, totalMs: 0.1 };
    logger.info(fields);
    lineWriter(logger)(fields);
    lineWriter(logger)({ ...fields, status: 304, totalMs: 12.5, upstreamMs: 40 });
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(3);
    expect(withoutTime(lines[1]!)).toBe(withoutTime(lines[0]!));
    const third = JSON.parse(lines[2]!);
    expect([third.status, third.totalMs, third.upstreamMs, third.clientId, third.district]).toEqual([304, 12.5, 40, 'app "one"\\ é\u2028', 'd\n1']);
  });

  it('stamps the time as pino does: ISO 8601 in UTC with milliseconds, current', async () => {
    const { lines, logger } = capture();
    const before = Date.now();
    const write = lineWriter(logger);
    for (let i = 0; i < 50; i++) write({ msg: 'request', n: i });
    await new Promise((r) => setTimeout(r, 5));
    write({ msg: 'request', n: 50 });
    const after = Date.now();
    await new Promise((r) => setImmediate(r));
    for (const l of lines) {
      const t = JSON.parse(l).time as string;
      expect(t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(t)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(t)).toBeLessThanOrEqual(after);
    }
    expect(lines.map((l) => JSON.parse(l).n)).toEqual(Array.from({ length: 51 }, (_, i) => i));
  });
});
