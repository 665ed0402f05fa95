import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanJson } from '../../src/core/json/scan.js';
import { byteRewrite, planReroot, writeReroot, type ByteRewrite } from '../../src/core/oneroster/href-bytes.js';
import { rewriteHrefs, type HrefRewrite } from '../../src/core/oneroster/hrefs.js';

const rewrite: HrefRewrite = { upstreamBase: 'https://sis.example.org/aeries/ims/oneroster', gatewayBase: 'https://gw.example/districts/x/ims/oneroster' };
const r = byteRewrite(rewrite);

/** The bytes path into a new buffer: undefined when a string must be dropped or redacted. */
function rerootHrefBytes(body: Buffer, spans: readonly number[], g: ByteRewrite) {
  const plan = planReroot(body, spans, g);
  return plan && writeReroot(body, plan, g);
}

/** The bytes path: undefined when the page must take the parsed path. */
function viaBytes(text: string): unknown {
  const body = Buffer.from(text, 'utf8');
  const scan = scanJson(body, r.upstream)!;
  const out = rerootHrefBytes(body, scan.strings, r);
  if (out === undefined) return undefined;
  // Each root it reports is where the gateway's root now stands.
  for (let k = 0; k < out.roots.length; k += 2) expect(out.body.toString('utf8', out.roots[k], out.roots[k + 1])).toBe(JSON.stringify(rewrite.gatewayBase).slice(1, -1));
  return JSON.parse(out.body.toString('utf8'));
}

/** The parsed path, as passThrough runs it. */
function viaParse(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  rewriteHrefs(value, rewrite);
  return value;
}

// hrefs in every form districts send: plain, other case, tilde- and root-relative, with query,
// fragment, dot segments, percent-encoding, escapes, spaces, non-ASCII, foreign hosts.
const tail = fc.oneof(
  fc.constantFrom('/v1p1/orgs/1', '', '/', '/v1p1/users/a.b', '/v1p1/orgs/./1', '/v1p1/../../x', '/v1p1/%2e%2e/x', '/v1p1/orgs/1?x=1#f', '/v1p1/orgs/é', '/v1p1/orgs/1 ', '/v1p1/orgs/..a', '/v1p1/orgs/...', 'x/orgs/1', '/v1p1\\/orgs'),
  fc.stringMatching(/^(\/[a-zA-Z0-9._~%-]{0,6}){0,4}$/),
);
const href = fc.oneof(
  tail.map((t) => rewrite.upstreamBase + t),
  tail.map((t) => rewrite.upstreamBase.toUpperCase() + t),
  tail.map((t) => `~/ims/oneroster${t}`),
  tail.map((t) => `//sis.example.org/aeries/ims/oneroster${t}`),
  fc.constantFrom('https://vendor.example/photo.jpg', 'javascript:alert(1)', ''),
);
const record = fc.record({
  sourcedId: fc.string(),
  orgs: fc.array(fc.record({ href, sourcedId: fc.string(), type: fc.constant('org') }), { maxLength: 3 }),
  metadata: fc.dictionary(fc.string(), fc.oneof(fc.string(), href)),
  tags: fc.array(fc.oneof(fc.string(), href), { maxLength: 3 }),
});
const page = fc.tuple(fc.array(record, { maxLength: 5 }), fc.constantFrom(undefined, 2)).map(([users, indent]) => JSON.stringify({ users }, null, indent));

describe('href re-rooting on bytes', () => {
  it('gives the very hrefs the parsed path gives, or hands the page to it', () => {
    let taken = 0;
    fc.assert(
      fc.property(page, (text) => {
        const bytes = viaBytes(text);
        if (bytes === undefined) return;
        taken++;
        expect(bytes).toEqual(viaParse(text));
      }),
      { numRuns: 3000 },
    );
    // Most generated pages hold an href only the parsed path may drop; a good share still take bytes.
    expect(taken).toBeGreaterThan(300);
  });

  it('re-roots plain, relative and other-case hrefs on bytes, and leaves every other byte as the district wrote it', () => {
    const text = `{ "users" : [ {"name":"Jos\\u00e9 \\/ Ren\u00e9e", "orgs":[{"href":"${rewrite.upstreamBase}/v1p1/orgs/1"},{"href":"~/ims/oneroster/v1p1/orgs/2"}],\n "x":"${rewrite.upstreamBase.toUpperCase()}/v1p1/orgs/3", "y":"${rewrite.upstreamBase}/v1p1/orgs/4"} ] }`;
    const out = rerootHrefBytes(Buffer.from(text), scanJson(Buffer.from(text), r.upstream)!.strings, r)!.body.toString('utf8');
    const g = rewrite.gatewayBase;
    // The upper-case value is not an href and does not start with the district's root as written: the parsed path leaves it too.
    expect(out).toBe(`{ "users" : [ {"name":"Jos\\u00e9 \\/ Ren\u00e9e", "orgs":[{"href":"${g}/v1p1/orgs/1"},{"href":"${g}/v1p1/orgs/2"}],\n "x":"${rewrite.upstreamBase.toUpperCase()}/v1p1/orgs/3", "y":"${g}/v1p1/orgs/4"} ] }`);
    expect(JSON.parse(out)).toEqual(viaParse(text));
  });

  it('hands over what the parsed path drops: an href climbing out of the root, pointing nowhere, or a root-prefixed value it cannot re-root', () => {
    for (const h of [`${rewrite.upstreamBase}/v1p1/../../districts/other`, 'https://vendor.example/x.jpg', `${rewrite.upstreamBase}/v1p1/%2E%2E/x`]) {
      expect(viaBytes(JSON.stringify({ users: [{ orgs: [{ href: h }] }] }))).toBeUndefined();
    }
    expect(viaBytes(JSON.stringify({ users: [{ note: `${rewrite.upstreamBase}x` }] }))).toBeUndefined();
  });

  it('returns the same Buffer when nothing changes, and escapes a gateway root that needs it', () => {
    const body = Buffer.from('{"users":[{"href":"https://gw.example/districts/x/ims/oneroster/v1p1/orgs/1"}]}');
    expect(rerootHrefBytes(body, scanJson(body, r.upstream)!.strings, r)!.body).toBe(body);
    const odd = byteRewrite({ ...rewrite, gatewayBase: 'https://gw.example/d/"q"\\/ims/oneroster' });
    const src = Buffer.from(`{"users":[{"href":"${rewrite.upstreamBase}/v1p1/orgs/1"}]}`);
    const out = rerootHrefBytes(src, scanJson(src, odd.upstream)!.strings, odd)!.body;
    expect(JSON.parse(out.toString('utf8')).users[0].href).toBe('https://gw.example/d/"q"\\/ims/oneroster/v1p1/orgs/1');
  });
});

describe('href re-rooting where the page lies (room past its end)', () => {
  // Gateway roots longer, as long as and shorter than the district's, one needing escapes.
  const gateways = fc.constantFrom(rewrite.gatewayBase, 'https://sis.example.org/aeries/ims/onerostex', 'https://g/ims/oneroster', 'https://gw.example/d/"q"\\/ims/oneroster');

  it('writes the very bytes and roots a new buffer gets, in the same memory when there is room and the page only grows', () => {
    let inPlace = 0;
    fc.assert(
      fc.property(page, gateways, fc.nat(400), fc.nat(64), (text, gatewayBase, room, lead) => {
        const g = byteRewrite({ ...rewrite, gatewayBase });
        const src = Buffer.from(text, 'utf8');
        const plan = planReroot(src, scanJson(src, g.upstream)!.strings, g);
        if (!plan) return;
        const fresh = writeReroot(src, plan, g);
        // The page at an offset in a larger buffer, `room` bytes after it, guard bytes after those.
        const memory = Buffer.alloc(lead + src.length + room + 16, 0x7e);
        src.copy(memory, lead);
        const body = memory.subarray(lead, lead + src.length);
        const out = writeReroot(body, plan, g, room);
        expect(out.body.toString('utf8')).toBe(fresh.body.toString('utf8'));
        expect(out.roots).toEqual(fresh.roots);
        const fits = plan.swaps.length > 0 && plan.grows && room > 0 && plan.length - src.length <= room;
        expect(out.body.buffer === memory.buffer).toBe(fits || plan.swaps.length === 0);
        if (fits) inPlace++;
        // Nothing before the page or past its room is touched.
        expect(memory.subarray(0, lead).every((b) => b === 0x7e)).toBe(true);
        expect(memory.subarray(lead + src.length + room).every((b) => b === 0x7e)).toBe(true);
      }),
      { numRuns: 3000 },
    );
    expect(inPlace).toBeGreaterThan(50);
  });

  it('does not grow in place past its room, nor when a replacement is shorter than what it replaces', () => {
    const text = JSON.stringify({ users: [{ href: `${rewrite.upstreamBase}/v1p1/orgs/1` }, { href: `${rewrite.upstreamBase}/v1p1/orgs/2` }] });
    const src = Buffer.from(text);
    const g = byteRewrite({ ...rewrite, gatewayBase: 'https://gw.example/districts/a-longer-id/ims/oneroster' });
    const plan = planReroot(src, scanJson(src, g.upstream)!.strings, g)!;
    const grow = plan.length - src.length;
    expect(grow).toBe(2 * (g.gateway.length - g.upstream.length));
    expect(grow).toBeGreaterThan(0);
    const roomy = Buffer.alloc(src.length + grow);
    src.copy(roomy);
    expect(writeReroot(roomy.subarray(0, src.length), plan, g, grow - 1).body.buffer).not.toBe(roomy.buffer);
    expect(writeReroot(roomy.subarray(0, src.length), plan, g, grow).body.buffer).toBe(roomy.buffer);
    const short = byteRewrite({ ...rewrite, gatewayBase: 'https://g/ims/oneroster' });
    const shortPlan = planReroot(src, scanJson(src, short.upstream)!.strings, short)!;
    expect(shortPlan.grows).toBe(false);
    const spare = Buffer.alloc(src.length + 100);
    src.copy(spare);
    expect(writeReroot(spare.subarray(0, src.length), shortPlan, short, 100).body.buffer).not.toBe(spare.buffer);
    // Without room the body is never written, even when the page keeps its length; a room past
    // the end of the body's ArrayBuffer (a caller's mistake) is not used.
    const same = byteRewrite({ ...rewrite, gatewayBase: 'https://sis.example.org/aeries/ims/onerostex' });
    const samePlan = planReroot(src, scanJson(src, same.upstream)!.strings, same)!;
    expect(samePlan.length).toBe(src.length);
    const kept = Buffer.from(src);
    expect(writeReroot(kept, samePlan, same).body).not.toBe(kept);
    expect(kept.equals(src)).toBe(true);
    const exact = Buffer.allocUnsafeSlow(src.length);
    src.copy(exact);
    const out = writeReroot(exact, plan, g, 1000);
    expect(out.body.buffer).not.toBe(exact.buffer);
    expect(exact.equals(src)).toBe(true);
  });
});
