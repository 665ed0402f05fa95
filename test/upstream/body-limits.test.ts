// The byte bounds of one district's answers: maxBodyBytes per answer (UPSTREAM_TOO_LARGE) and
// maxInFlightBytes across the answers being read at once (UPSTREAM_BUSY), against real sockets.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createTransport, type TransportRequest } from '../../src/upstream/http.js';
import { UpstreamError } from '../../src/upstream/types.js';
import { district } from './district.js';
import { upstreamHarness } from './harness.js';
import { startLocalServer } from './local-server.js';

const KiB = 1024;
const BEARER = { type: 'bearer' as const, token: 'tok' };
const { cleanups, server, client, transport } = upstreamHarness({ timeoutMs: 3000 });
const get = (origin: string, path: string): TransportRequest => ({ method: 'GET', origin, path, headers: {} });
const settle = <T>(p: Promise<T>) => p.then((v) => ({ ok: v }), (err: unknown) => ({ err: err as UpstreamError }));

/** Writes `bytes` spaces in 16 KiB pieces, minding backpressure. */
async function writeSpaces(res: ServerResponse, bytes: number): Promise<void> {
  for (let left = bytes; left > 0 && !res.destroyed; left -= 16 * KiB) {
    if (!res.write(Buffer.alloc(Math.min(16 * KiB, left), ' '))) await new Promise((r) => res.once('drain', r));
  }
}

describe('maxBodyBytes', () => {
  it("is the district's own setting: a streamed answer past it is UPSTREAM_TOO_LARGE, not retried as unreachable", async () => {
    let closed = 0;
    const s = await server(async (_req, res) => {
      res.on('close', () => closed++);
      res.writeHead(200, { 'content-type': 'application/json' });
      await writeSpaces(res, 512 * KiB);
      res.end();
    });
    const c = client(district(s.origin, BEARER, { maxBodyBytes: 64 * KiB }));
    const err = await c.request({ method: 'GET', path: '/users', query: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).code).toBe('UPSTREAM_TOO_LARGE');
    expect((err as Error).message).toContain('test-district');
    expect((err as Error).message).not.toContain('127.0.0.1');
    expect(s.hits).toHaveLength(1);
  });

  it('logs the district (never its address) when its answer is refused for size', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1024 * KiB) });
      res.end(Buffer.alloc(1024 * KiB, ' '));
    });
    const warnings: Array<Record<string, unknown>> = [];
    const c = client(district(s.origin, BEARER, { maxBodyBytes: 64 * KiB }), { logger: { warn: (o) => void warnings.push(o as Record<string, unknown>) } });
    await c.request({ method: 'GET', path: '/users', query: [] }).catch(() => undefined);
    expect(warnings).toEqual([expect.objectContaining({ msg: 'upstream answer too large', district: 'test-district', maxBodyBytes: 64 * KiB })]);
    expect(JSON.stringify(warnings)).not.toContain('127.0.0.1');
  });

  it('refuses a Content-Length over the cap before reading the body', async () => {
    let bodyEnded = false;
    const s = await server((_req, res) => {
      // Declares 200 MiB, sends a little, then goes quiet: reading would wait for the timeout.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(200 * 1024 * KiB) });
      res.write('{"users":[');
      res.on('close', () => (bodyEnded = true));
    });
    const c = client(district(s.origin, BEARER, { maxBodyBytes: 64 * KiB, timeoutMs: 5000 }));
    const t0 = performance.now();
    await expect(c.request({ method: 'GET', path: '/users', query: [] })).rejects.toMatchObject({ code: 'UPSTREAM_TOO_LARGE' });
    expect(performance.now() - t0).toBeLessThan(1000);
    // The connection was dropped, not left to drain 200 MiB.
    await expect.poll(() => bodyEnded, { timeout: 1000 }).toBe(true);
  });

  it('an endless body is cut at the cap', async () => {
    const s = await server(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      while (!res.destroyed) await writeSpaces(res, 64 * KiB);
    });
    const c = client(district(s.origin, BEARER, { maxBodyBytes: 256 * KiB, timeoutMs: 5000 }));
    const t0 = performance.now();
    await expect(c.request({ method: 'GET', path: '/users', query: [] })).rejects.toMatchObject({ code: 'UPSTREAM_TOO_LARGE' });
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('an answer of exactly the cap passes, with or without Content-Length', async () => {
    const s = await server((req, res) => {
      const body = Buffer.alloc(64 * KiB, 'a');
      if (req.url === '/declared') res.setHeader('content-length', String(body.length));
      res.end(body);
    });
    const t = transport(64 * KiB);
    for (const path of ['/declared', '/chunked']) {
      const res = await t.send(get(s.origin, path));
      expect(res.body.length).toBe(64 * KiB);
      expect(res.body.every((b) => b === 0x61)).toBe(true);
    }
    expect(t.inFlightBytes).toBe(0);
  });

  it('gives a large declared answer room to grow in place (an eighth, its own), and none to a small or chunked one', async () => {
    const s = await server((req, res) => {
      const size = req.url === '/small' ? 4 * KiB : 64 * KiB;
      const body = Buffer.alloc(size, 'b');
      if (req.url === '/chunked') res.write(body);
      else res.setHeader('content-length', String(size));
      res.end(req.url === '/chunked' ? undefined : body);
    });
    const t = transport(1024 * KiB);
    const large = await t.send(get(s.origin, '/large'));
    expect([large.body.length, large.room]).toEqual([64 * KiB, 8 * KiB]);
    // The room is the body's own: its ArrayBuffer holds nothing else.
    expect([large.body.byteOffset, large.body.buffer.byteLength]).toEqual([0, 72 * KiB]);
    for (const path of ['/small', '/chunked']) expect((await t.send(get(s.origin, path))).room).toBeUndefined();
    // What the in-flight budget counts is the answer, not its room.
    expect(t.inFlightBytes).toBe(0);
  });

  it('a per-request maxBodyBytes (token responses) lowers the cap but never raises it', async () => {
    const s = await server((_req, res) => void res.end(Buffer.alloc(8 * KiB, 'a')));
    const t = transport(4 * KiB);
    await expect(t.send({ ...get(s.origin, '/token'), maxBodyBytes: 1024 * KiB })).rejects.toMatchObject({ code: 'UPSTREAM_TOO_LARGE' });
    const roomy = transport(64 * KiB);
    await expect(roomy.send({ ...get(s.origin, '/token'), maxBodyBytes: 2 * KiB })).rejects.toMatchObject({ code: 'UPSTREAM_TOO_LARGE' });
    expect((await roomy.send(get(s.origin, '/data'))).body.length).toBe(8 * KiB);
  });
});

describe('maxInFlightBytes', () => {
  /**
   * A server holding every answer until `n` requests are in, then sending each in two halves
   * with a pause between, so the answers are being read at the same time.
   */
  async function concurrentServer(n: number, bytes: number, declare: boolean) {
    const waiting: ServerResponse[] = [];
    const s = await server(async (_req, res) => {
      waiting.push(res);
      if (waiting.length < n) return;
      const all = waiting.splice(0);
      for (const r of all) r.writeHead(200, declare ? { 'content-length': String(bytes) } : {});
      await Promise.all(all.map((r) => writeSpaces(r, bytes / 2)));
      await new Promise((r) => setTimeout(r, 100));
      await Promise.all(all.map(async (r) => (await writeSpaces(r, bytes / 2), r.end())));
    });
    return s;
  }

  it('cuts the answer whose reading would pass the budget (chunked), lets the other finish, and gives every byte back', async () => {
    const s = await concurrentServer(2, 700 * KiB, false);
    const t = transport(1024 * KiB, 1024 * KiB);
    const results = await Promise.all([settle(t.send(get(s.origin, '/a'))), settle(t.send(get(s.origin, '/b')))]);
    const busy = results.filter((r) => 'err' in r);
    const ok = results.filter((r) => 'ok' in r);
    expect(busy).toHaveLength(1);
    expect((busy[0] as { err: UpstreamError }).err.code).toBe('UPSTREAM_BUSY');
    expect((busy[0] as { err: UpstreamError }).err.message).not.toContain('127.0.0.1');
    expect(ok).toHaveLength(1);
    expect((ok[0] as { ok: { body: Buffer } }).ok.body.length).toBe(700 * KiB);
    expect(t.inFlightBytes).toBe(0);
    // The budget is free again: one more answer of the same size goes through.
    const again = await startLocalServer((_req, res) => void res.end(Buffer.alloc(700 * KiB, ' ')));
    cleanups.push(() => again.close());
    expect((await t.send(get(again.origin, '/c'))).body.length).toBe(700 * KiB);
  });

  it('counts a declared Content-Length before reading: the answer that does not fit is refused at once', async () => {
    const s = await concurrentServer(3, 600 * KiB, true);
    const t = transport(1024 * KiB, 1300 * KiB);
    const results = await Promise.all(['/a', '/b', '/c'].map((p) => settle(t.send(get(s.origin, p)))));
    expect(results.filter((r) => 'ok' in r)).toHaveLength(2);
    expect(results.filter((r) => 'err' in r).map((r) => (r as { err: UpstreamError }).err.code)).toEqual(['UPSTREAM_BUSY']);
    expect(t.inFlightBytes).toBe(0);
  });

  it('defaults to twice maxBodyBytes for a district client, and concurrent answers within it all pass', async () => {
    const s3 = await concurrentServer(3, 800 * KiB, true);
    const c = client(district(s3.origin, BEARER, { maxBodyBytes: 1024 * KiB }));
    const three = await Promise.all(['/a', '/b', '/c'].map((p) => settle(c.request({ method: 'GET', path: p, query: [] }))));
    // 3 x 800 KiB > 2 x 1 MiB: one is refused.
    expect(three.filter((r) => 'err' in r).map((r) => (r as { err: UpstreamError }).err.code)).toEqual(['UPSTREAM_BUSY']);

    const s2 = await concurrentServer(2, 800 * KiB, true);
    const c2 = client(district(s2.origin, BEARER, { maxBodyBytes: 1024 * KiB }));
    const two = await Promise.all(['/a', '/b'].map((p) => settle(c2.request({ method: 'GET', path: p, query: [] }))));
    expect(two.every((r) => 'ok' in r)).toBe(true);
  });

  it('is configurable per district (maxInFlightBytes)', async () => {
    const s = await concurrentServer(2, 800 * KiB, true);
    const c = client(district(s.origin, BEARER, { maxBodyBytes: 1024 * KiB, maxInFlightBytes: 1024 * KiB }));
    const two = await Promise.all(['/a', '/b'].map((p) => settle(c.request({ method: 'GET', path: p, query: [] }))));
    expect(two.filter((r) => 'err' in r).map((r) => (r as { err: UpstreamError }).err.code)).toEqual(['UPSTREAM_BUSY']);
  });

  it('gives back the bytes of an answer cut for size, a timeout and a caller abort', async () => {
    const s = await server(async (req, res) => {
      res.writeHead(200, req.url === '/declared-hang' ? { 'content-length': String(512 * KiB) } : {});
      if (req.url === '/big') return void (await writeSpaces(res, 2048 * KiB), res.end());
      await writeSpaces(res, 128 * KiB); // then hang
    });
    const t = createTransport({ districtId: 'd1', connectTimeoutMs: 500, timeoutMs: 300, maxBodyBytes: 1024 * KiB });
    cleanups.push(() => t.close());
    await expect(t.send(get(s.origin, '/big'))).rejects.toMatchObject({ code: 'UPSTREAM_TOO_LARGE' });
    expect(t.inFlightBytes).toBe(0);
    await expect(t.send(get(s.origin, '/declared-hang'))).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(t.inFlightBytes).toBe(0);
    const ac = new AbortController();
    const p = t.send({ ...get(s.origin, '/hang'), signal: ac.signal });
    await expect.poll(() => t.inFlightBytes, { timeout: 1000 }).toBeGreaterThan(0);
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'UPSTREAM_ABORTED' });
    expect(t.inFlightBytes).toBe(0);
  });

  it('validates its options', () => {
    expect(() => createTransport({ districtId: 'd', connectTimeoutMs: 1, timeoutMs: 1, maxInFlightBytes: 0 })).toThrow(/maxInFlightBytes/);
    expect(() => createTransport({ districtId: 'd', connectTimeoutMs: 1, timeoutMs: 1, maxBodyBytes: -1 })).toThrow(/maxBodyBytes/);
  });
});
