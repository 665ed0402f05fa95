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

describe('access lines to stdout, written once per turn of the event loop', () => {
  // The built logger in a child process whose stdout is a pipe read here, as in production.
  async function run(script: string): Promise<string[]> {
    const { spawn } = await import('node:child_process');
    const code = `import { createLogger, lineWriter, closeLogger } from './dist/observability/logger.js';\nconst logger = createLogger();\nconst write = lineWriter(logger);\n${script}`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const stuck = setTimeout(() => child.kill('SIGKILL'), 10_000);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    await new Promise((r) => child.once('close', r));
    clearTimeout(stuck);
    return out.split('\n').filter(Boolean);
  }
  const ids = (lines: string[]) => lines.map((l) => JSON.parse(l).requestId);

  it('come out in order, every one, across turns and past a batch', async () => {
    const lines = await run(`
      let n = 0;
      for (let turn = 0; turn < 30; turn++) {
        for (let k = 0; k < 40; k++) write({ msg: 'request', requestId: 'r' + n++ });
        await new Promise((r) => setImmediate(r));
      }
      await closeLogger(logger);`);
    expect(ids(lines)).toEqual(Array.from({ length: 1200 }, (_, i) => `r${i}`));
  });

  it('are written at closeLogger and at exit even when the turn they were written in never ended', async () => {
    expect(ids(await run(`write({ msg: 'request', requestId: 'a' }); write({ msg: 'request', requestId: 'b' }); await closeLogger(logger);`))).toEqual(['a', 'b']);
    // pino's own line is written at once, the access lines at the end of the turn.
    expect(ids(await run(`write({ msg: 'request', requestId: 'a' }); logger.info({ requestId: 'b' }); write({ msg: 'request', requestId: 'c' }); process.exit(0);`))).toEqual(['b', 'a', 'c']);
  });

  it('are all written at exit when the turn holds more than a batch (8 KiB), after the lines sonic-boom holds', async () => {
    const lines = await run(`
      for (let i = 0; i < 30; i++) logger.info({ requestId: 'p' + i });
      for (let i = 0; i < 400; i++) write({ msg: 'request', requestId: 'r' + i, route: 'GET /ims/oneroster/v1p1/users/{id}' });
      process.exit(0);`);
    expect(ids(lines)).toEqual([...Array.from({ length: 30 }, (_, i) => `p${i}`), ...Array.from({ length: 400 }, (_, i) => `r${i}`)]);
  });
});
