// Compressed answers from districts: asked for, decoded, and held to the byte caps by their
// DECODED size, against real sockets. A small answer that expands past maxBodyBytes (a
// decompression bomb) is refused without ever holding more than about the cap.
import { brotliCompressSync, constants, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { codingsOf } from '../../src/upstream/content-decoding.js';
import { createTransport, type TransportRequest } from '../../src/upstream/http.js';
import { UpstreamError } from '../../src/upstream/types.js';
import { district } from './district.js';
import { upstreamHarness } from './harness.js';

const MiB = 1024 * 1024;
const { cleanups, server, client, transport } = upstreamHarness({ timeoutMs: 5000 });
const get = (origin: string, path = '/x'): TransportRequest => ({ method: 'GET', origin, path, headers: { 'accept-encoding': 'gzip, deflate, br' } });
const settle = <T>(p: Promise<T>) => p.then((v) => ({ ok: v }), (err: unknown) => ({ err: err as UpstreamError }));

const page = JSON.stringify({ users: Array.from({ length: 400 }, (_, i) => ({ sourcedId: `u-${i}`, givenName: 'Ada', familyName: `Lovelace ${i}`, role: 'student' })) });
const CODERS: Record<string, (b: Buffer) => Buffer> = {
  gzip: (b) => gzipSync(b),
  'x-gzip': (b) => gzipSync(b),
  deflate: (b) => deflateSync(b),
  br: (b) => brotliCompressSync(b),
};

describe('compressed answers from a district', () => {
  it('asks for gzip, deflate and br on every district request', async () => {
    const s = await server();
    const c = client(district(s.origin, { type: 'bearer', token: 'tok' }));
    await c.request({ method: 'GET', path: '/users', query: [] });
    expect(s.hits[0]!.headers['accept-encoding']).toBe('gzip, deflate, br');
  });

  it.each(Object.keys(CODERS))('decodes %s to the very bytes the district encoded, and drops the coding headers', async (coding) => {
    const coded = CODERS[coding]!(Buffer.from(page));
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': coding, 'content-length': String(coded.length) });
      res.end(coded);
    });
    const t = transport(MiB);
    const res = await t.send(get(s.origin));
    expect(res.body.toString()).toBe(page);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-length']).toBeUndefined();
    expect(t.inFlightBytes).toBe(0);
  });

  it('reads deflate sent raw (no zlib wrapper), as some servers send it', async () => {
    const coded = deflateRawSync(Buffer.from(page));
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'deflate' });
      res.end(coded);
    });
    expect((await transport(MiB).send(get(s.origin))).body.toString()).toBe(page);
  });

  it('decodes two stacked codings in the order they were applied', async () => {
    const coded = brotliCompressSync(gzipSync(Buffer.from(page)));
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip, br' });
      res.end(coded);
    });
    expect((await transport(MiB).send(get(s.origin))).body.toString()).toBe(page);
  });

  it.each(['gzip', 'br'])('refuses a %s bomb by its decoded size: 64 MiB of zeros in a small answer, cap 1 MiB', async (coding) => {
    const bomb = coding === 'gzip' ? gzipSync(Buffer.alloc(64 * MiB), { level: 9 }) : brotliCompressSync(Buffer.alloc(64 * MiB), { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } });
    expect(bomb.length).toBeLessThan(MiB / 8);
    let closed = false;
    const s = await server((_req, res) => {
      res.on('close', () => (closed = true));
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': coding, 'content-length': String(bomb.length) });
      res.end(bomb);
    });
    const t = transport(MiB);
    const before = process.memoryUsage().arrayBuffers;
    const out = await settle(t.send(get(s.origin)));
    expect(out).toHaveProperty('err');
    expect((out as { err: UpstreamError }).err.code).toBe('UPSTREAM_TOO_LARGE');
    // Never held anywhere near the 64 MiB it would decode to.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * MiB);
    expect(t.inFlightBytes).toBe(0);
    await expect.poll(() => closed).toBe(true);
  });

  it("counts decoded bytes against the district's in-flight budget", async () => {
    // 600 KB decoded from a few KB: two at once pass a 1 MiB budget though their coded sizes would not.
    const big = gzipSync(Buffer.alloc(600 * 1024, ' '));
    const s = await server(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.write(big.subarray(0, big.length - 10));
      await new Promise((r) => setTimeout(r, 150));
      res.end(big.subarray(big.length - 10));
    });
    const t = transport(MiB, MiB);
    const results = await Promise.all([settle(t.send(get(s.origin))), settle(t.send(get(s.origin)))]);
    const codes = results.map((r) => ('err' in r ? r.err.code : 'ok')).sort();
    expect(codes).toEqual(['UPSTREAM_BUSY', 'ok']);
    expect(t.inFlightBytes).toBe(0);
  });

  it('answers UPSTREAM_BAD_ENCODING for a body that does not decode, and for a coding it cannot decode', async () => {
    let mode = 'corrupt';
    const s = await server((_req, res) => {
      if (mode === 'corrupt') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(Buffer.concat([gzipSync(Buffer.from(page)).subarray(0, 40), Buffer.from('not gzip at all, and then some')]));
      } else if (mode === 'truncated') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' });
        res.end(brotliCompressSync(Buffer.from(page)).subarray(0, 100));
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'compress' });
        res.end('whatever');
      }
    });
    const t = transport(MiB);
    for (const m of ['corrupt', 'truncated', 'compress']) {
      mode = m;
      const out = await settle(t.send(get(s.origin)));
      expect(out, m).toHaveProperty('err');
      expect((out as { err: UpstreamError }).err.code, m).toBe('UPSTREAM_BAD_ENCODING');
      expect((out as { err: UpstreamError }).err.message).not.toContain('127.0.0.1');
    }
    expect(t.inFlightBytes).toBe(0);
  });

  it('keeps a reset or a timeout while reading a compressed body what it is, not a bad encoding', async () => {
    const coded = gzipSync(Buffer.from(page));
    let mode = 'reset';
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.write(coded.subarray(0, 200));
      if (mode === 'reset') setTimeout(() => res.socket?.destroy(), 20);
      // else: the rest never comes; the transport's deadline ends it.
    });
    const t = createTransport({ districtId: 'd1', connectTimeoutMs: 500, timeoutMs: 400, maxBodyBytes: MiB });
    cleanups.push(() => t.close());
    const reset = await settle(t.send(get(s.origin)));
    expect((reset as { err: UpstreamError }).err.code).toBe('UPSTREAM_UNREACHABLE');
    mode = 'stall';
    const stalled = await settle(t.send(get(s.origin)));
    expect((stalled as { err: UpstreamError }).err.code).toBe('UPSTREAM_TIMEOUT');
    expect(t.inFlightBytes).toBe(0);
  });

  it('reads the Content-Encoding list as RFC 9110 does', () => {
    expect(codingsOf(undefined)).toEqual([]);
    expect(codingsOf('identity')).toEqual([]);
    expect(codingsOf(' GZIP ')).toEqual(['gzip']);
    expect(codingsOf('gzip, br')).toEqual(['gzip', 'br']);
    expect(codingsOf('compress')).toBeUndefined();
    expect(codingsOf('gzip, gzip, gzip')).toBeUndefined();
  });
});
