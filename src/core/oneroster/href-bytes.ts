// hrefs.ts's re-rooting, done on the bytes a district sent rather than on the parsed page: the
// string values scanJson reported (every href, every string starting with the district's
// root) are replaced in place and everything else is copied as it came. The common href
// (`<district root>/v1p1/orgs/7`) is re-rooted by swapping its first bytes; any other form goes
// through rewriteHref itself, so both paths give the same hrefs. Whatever hrefs.ts would drop
// or redact rather than re-root (a key deleted, a value redacted) is not done here: undefined
// sends the page to the parsed path.
import { bytesAt } from '../json/scan.js';
import { rewriteHref, type HrefRewrite } from './hrefs.js';

export interface ByteRewrite {
  rewrite: HrefRewrite;
  /** The district's root as bytes (what scanJson's prefix was). */
  upstream: Uint8Array;
  /** The gateway's root as it stands inside a JSON string (escaped), as bytes. */
  gateway: Uint8Array;
}

export function byteRewrite(rewrite: HrefRewrite): ByteRewrite {
  return {
    rewrite,
    upstream: Buffer.from(rewrite.upstreamBase, 'utf8'),
    gateway: Buffer.from(JSON.stringify(rewrite.gatewayBase).slice(1, -1), 'utf8'),
  };
}

/**
 * The tail after the district's root, bytes [from, to), is a plain path that rewriteHref keeps
 * as it is: printable ASCII, no query, fragment, escape or percent-encoding, no `.`/`..` segment,
 * and empty or starting with `/`. Anything else takes rewriteHref.
 */
function plainTail(b: Uint8Array, from: number, to: number): boolean {
  if (from < to && b[from] !== 0x2f) return false;
  let segment = from + 1;
  for (let k = from; k <= to; k++) {
    const c = k === to ? 0x2f : b[k]!;
    if (c === 0x2f) {
      const len = k - segment;
      if (k > from && (len === 1 || len === 2) && b[segment] === 0x2e && (len === 1 || b[segment + 1] === 0x2e)) return false;
      segment = k + 1;
    } else if (c < 0x21 || c > 0x7e || c === 0x3f || c === 0x23 || c === 0x25 || c === 0x5c || c === 0x22) return false;
  }
  return true;
}

/** Copies src[from, to) to dst at `at`; a loop for the short runs between hrefs, where a native copy's call costs more than the bytes. */
function copyBytes(src: Uint8Array, from: number, to: number, dst: Uint8Array, at: number): number {
  const n = to - from;
  if (n > 64) dst.set(src.subarray(from, to), at);
  else for (let k = 0; k < n; k++) dst[at + k] = src[from + k]!;
  return n;
}

/** A page re-rooted on bytes, and where the gateway's root now stands in it ([start, end) pairs). */
export interface Rerooted {
  body: Buffer;
  roots: number[];
}

/** What re-rooting a page replaces (planned without writing a byte), and how long it becomes. */
export interface RerootPlan {
  /** The strings' [start, end) spans, as scanJson gave them. */
  spans: readonly number[];
  /** Per replaced string, in order: its span's index in `spans` and its new bytes (null: swap the district's root for the gateway's). */
  at: number[];
  swaps: Array<Buffer | null>;
  length: number;
  /** No replacement is shorter than what it replaces: the page only grows, from every point on. */
  grows: boolean;
}

/**
 * Which strings at `spans` ([start, end) pairs, quotes included, in order) are re-rooted and
 * how; undefined when one must be dropped or redacted instead (nothing is written either way).
 */
export function planReroot(body: Buffer, spans: readonly number[], r: ByteRewrite): RerootPlan | undefined {
  const swaps: Array<Buffer | null> = [];
  const at: number[] = [];
  let length = body.length;
  let grows = true;
  // A rewrite that checks tails against a redactor takes rewriteHref for every string.
  const plain = r.rewrite.redactor === undefined;
  for (let k = 0; k < spans.length; k += 2) {
    const start = spans[k]!;
    const end = spans[k + 1]!;
    const tail = start + 1 + r.upstream.length;
    if (plain && bytesAt(body, start + 1, r.upstream) && plainTail(body, tail, end - 1)) {
      swaps.push(null);
      at.push(k);
      length += r.gateway.length - r.upstream.length;
      if (r.gateway.length < r.upstream.length) grows = false;
      continue;
    }
    const value = JSON.parse(body.toString('utf8', start, end)) as string;
    const next = rewriteHref(value, r.rewrite);
    if (next === undefined) return undefined;
    if (next === value) continue;
    const bytes = Buffer.from(JSON.stringify(next), 'utf8');
    swaps.push(bytes);
    at.push(k);
    length += bytes.length - (end - start);
    if (bytes.length < end - start) grows = false;
  }
  return { spans, at, swaps, length, grows };
}

/**
 * `body` re-rooted as planned: the same Buffer when nothing changes; written where it lies when
 * it fits in `room` (bytes past its end that are its own, at least one), the body's old bytes
 * then gone; else into a new Buffer.
 */
export function writeReroot(body: Buffer, plan: RerootPlan, r: ByteRewrite, room = 0): Rerooted {
  if (plan.swaps.length === 0) return { body, roots: [] };
  // `room` is the caller's word that the body, and those bytes after it, are its alone to
  // rewrite (TransportResponse.room); without it the body is never written. A room past the end
  // of its ArrayBuffer is not used.
  const fits = room > 0 && plan.length - body.length <= room && body.byteOffset + plan.length <= body.buffer.byteLength;
  if (plan.grows && fits) return rerootInPlace(body, plan, r);
  const { spans, at, swaps, length } = plan;
  const out = Buffer.allocUnsafe(length);
  const roots: number[] = [];
  let from = 0;
  let to = 0;
  for (let s = 0; s < swaps.length; s++) {
    const start = spans[at[s]!]!;
    const swap = swaps[s]!;
    to += copyBytes(body, from, start, out, to);
    if (swap === null) {
      out[to++] = 0x22;
      roots.push(to, to + r.gateway.length);
      to += copyBytes(r.gateway, 0, r.gateway.length, out, to);
      from = start + 1 + r.upstream.length;
    } else {
      to += copyBytes(swap, 0, swap.length, out, to);
      from = spans[at[s]! + 1]!;
    }
  }
  copyBytes(body, from, body.length, out, to);
  return { body: out, roots };
}

/**
 * The page grows where it lies, from its end backwards. No replacement is shorter than what it
 * replaces (plan.grows), so everything written lies at or after the bytes still to be read: a
 * run of the district's bytes moves right (copyWithin copies overlapping runs correctly) and
 * nothing before it is touched until it has been moved.
 */
function rerootInPlace(body: Buffer, plan: RerootPlan, r: ByteRewrite): Rerooted {
  const { spans, at, swaps, length } = plan;
  const out = Buffer.from(body.buffer, body.byteOffset, length);
  const roots: number[] = [];
  let end = length;
  let srcEnd = body.length;
  for (let s = swaps.length - 1; s >= 0; s--) {
    const start = spans[at[s]!]!;
    const swap = swaps[s]!;
    const runFrom = swap === null ? start + 1 + r.upstream.length : spans[at[s]! + 1]!;
    const run = srcEnd - runFrom;
    out.copyWithin(end - run, runFrom, srcEnd);
    end -= run;
    if (swap === null) {
      end -= r.gateway.length;
      out.set(r.gateway, end);
      roots.push(end + r.gateway.length, end);
      // The opening quote stays where it was: it is the byte before the district's root.
      end -= 1;
      srcEnd = start;
      out[end] = 0x22;
    } else {
      end -= swap.length;
      out.set(swap, end);
      srcEnd = start;
    }
  }
  // What precedes the first replaced string stays where it was. The roots were found last first.
  roots.reverse();
  return { body: out, roots };
}
