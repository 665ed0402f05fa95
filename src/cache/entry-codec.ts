// The L2 form of an entry: one JSON header line, '\n', then the body as UTF-8 text (or
// base64 when the bytes are not valid UTF-8). A JSON body therefore goes to Redis byte for
// byte (Redis strings are binary-safe and node-redis encodes them as UTF-8), where a JSON
// envelope around the body would escape every quote and Buffer.toJSON would cost ~4x.
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import type { Deserialize, Serialize } from 'keyv';
import type { CacheEntry } from './types.js';

interface Header {
  v: 1;
  s: number;
  h: Record<string, string>;
  t: number;
  f: number;
  x: number;
  g: Array<[string, number]>;
  /** Body encoding: 'u' UTF-8 text, 'b' base64. */
  e: 'u' | 'b';
  /** Keyv's own expiry (ms epoch), used by the memory store. */
  k?: number;
  /** The body's digest (CachedResponse.digest). */
  d?: string;
  /** The body's other content codings, base64 (small beside the body: they are compressed). */
  c?: Record<string, string>;
}

/**
 * A Buffer of its own: Buffer.from() gives small buffers as slices of a shared 8 KiB pool,
 * and holding one such slice in L1 would keep the whole slab alive behind a small size. A
 * body at the start of a block at most an eighth larger is kept as it is (a page re-rooted
 * where it was read, in the room the transport gave it): copying it would cost more than the
 * spare bytes, which entryFootprint counts. A pool slice never qualifies (pool slices are
 * under 4 KiB in an 8 KiB slab).
 */
export function ownedBuffer(body: Buffer): Buffer {
  if (body.byteOffset === 0 && body.buffer.byteLength - body.byteLength <= body.byteLength >> 3) return body;
  const copy = Buffer.allocUnsafeSlow(body.byteLength);
  body.copy(copy);
  return copy;
}

function utf8Owned(text: string): Buffer {
  const out = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'));
  out.write(text, 'utf8');
  return out;
}

export function encodeEntry(entry: CacheEntry, expires?: number): string {
  const utf8 = isUtf8(entry.body);
  const header: Header = {
    v: 1,
    s: entry.status,
    h: entry.headers,
    t: entry.storedAt,
    f: entry.freshUntil,
    x: entry.staleUntil,
    g: entry.tags,
    e: utf8 ? 'u' : 'b',
  };
  if (expires !== undefined) header.k = expires;
  if (entry.digest !== undefined) header.d = entry.digest;
  if (entry.encoded !== undefined) {
    const c: Record<string, string> = {};
    for (const coding in entry.encoded) c[coding] = entry.encoded[coding]!.toString('base64');
    header.c = c;
  }
  return `${JSON.stringify(header)}\n${entry.body.toString(utf8 ? 'utf8' : 'base64')}`;
}

/** Undefined for anything that is not an entry of this version (a foreign or corrupt value is a miss). */
export function decodeEntry(text: string): { entry: CacheEntry; expires: number | undefined } | undefined {
  const nl = text.indexOf('\n');
  if (nl < 0) return undefined;
  let h: Header;
  try {
    h = JSON.parse(text.slice(0, nl)) as Header;
  } catch {
    return undefined;
  }
  if (h?.v !== 1 || typeof h.s !== 'number' || typeof h.x !== 'number' || !Array.isArray(h.g)) return undefined;
  const raw = text.slice(nl + 1);
  const body = h.e === 'b' ? Buffer.from(raw, 'base64') : utf8Owned(raw);
  const entry: CacheEntry = { status: h.s, headers: h.h ?? {}, body, storedAt: h.t, freshUntil: h.f, staleUntil: h.x, tags: h.g };
  if (typeof h.d === 'string') entry.digest = h.d;
  if (h.c && typeof h.c === 'object') {
    const encoded: Record<string, Buffer> = {};
    for (const coding in h.c) if (typeof h.c[coding] === 'string') encoded[coding] = ownedBuffer(Buffer.from(h.c[coding], 'base64'));
    entry.encoded = encoded;
  }
  return { entry, expires: typeof h.k === 'number' ? h.k : undefined };
}

/** Keyv's serialize/deserialize pair: Keyv hands over `{ value, expires }` (Keyv's types are generic in the value). */
export const keyvEntryCodec: { serialize: Serialize; deserialize: Deserialize } = {
  serialize: (data) => encodeEntry(data.value as CacheEntry, data.expires ?? undefined),
  deserialize: <Value>(text: string) => {
    const decoded = decodeEntry(text);
    return decoded && { value: decoded.entry as Value, expires: decoded.expires };
  },
};

// Estimated V8 cost of one L1 item beyond the body (entry and item objects, the headers
// object, the tags arrays, lru-cache's slots); see test/cache/entry-codec.test.ts.
const ITEM_OVERHEAD = 400;
const PER_STRING = 40;

/** Bytes an L1 item holds: the body plus an estimate of everything around it (strings count 2 bytes a char). */
export function entryFootprint(entry: CacheEntry, id: string): number {
  // The body's whole block, spare bytes after it included (ownedBuffer).
  let n = Math.max(entry.body.byteLength, entry.body.buffer.byteLength) + ITEM_OVERHEAD + PER_STRING + id.length * 2;
  if (entry.digest !== undefined) n += PER_STRING + entry.digest.length * 2;
  for (const coding in entry.encoded) n += PER_STRING + 2 * coding.length + entry.encoded[coding]!.byteLength;
  for (const name in entry.headers) n += 2 * PER_STRING + (name.length + (entry.headers[name]?.length ?? 0)) * 2;
  for (const [tag] of entry.tags) n += PER_STRING + 16 + tag.length * 2;
  return n;
}

// Redis keys stay short enough to read in redis-cli; longer ones (big filters) are hashed.
const MAX_KEY_CHARS = 256;

/**
 * The id of an entry in both tiers: `{scope}:{key}`. A ':' or '%' in the scope is escaped so
 * no two (scope, key) pairs share an id; a long key is replaced by its sha256.
 */
export function entryId(scope: string, key: string): string {
  const s = scopePart(scope);
  const id = `${s}:${key}`;
  if (id.length <= MAX_KEY_CHARS) return id;
  return `${s}:#${createHash('sha256').update(key).digest('base64url')}`;
}

/** The scope as it leads an entry id (`{scope}:`). */
export function scopePart(scope: string): string {
  return scope.replace(/%/g, '%25').replace(/:/g, '%3A');
}
