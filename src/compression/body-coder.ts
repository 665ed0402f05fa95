// Content codings of answer bodies (gzip, br) and the digests their entity tags are made of.
// Compression runs on libuv's thread pool (zlib's async API), never on the event loop: a
// 600 KB page costs milliseconds to compress, and a cache hit must not wait behind it.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { createBufferMemo } from '../cache/buffer-memo.js';
import { CONTENT_CODINGS, type ContentCoding } from '../core/http/accept-encoding.js';

export interface CompressionOptions {
  /** Off: every answer goes out as identity (entity tags are still given). */
  enabled: boolean;
  /** The codings offered, in the gateway's order of preference when the client weights them alike. */
  encodings: readonly ContentCoding[];
  /** Bodies smaller than this go out as identity: the coding would cost more than it saves. */
  minBytes: number;
  /** gzip level and brotli quality, 1 (fastest) to 9. */
  level: number;
}

/**
 * How long a coding stays in demand after a client last negotiated it. A page stored in that
 * time is stored in that coding too; a coding no client asked for in this time is not made at
 * all (a gateway whose clients all send identity compresses nothing).
 */
export const DEMAND_MS = 60 * 60 * 1000;

export const DEFAULT_COMPRESSION: CompressionOptions = { enabled: true, encodings: ['br', 'gzip'], minBytes: 1024, level: 6 };

export interface BodyCoder {
  /** The codings to negotiate; empty when compression is off. */
  readonly offered: readonly ContentCoding[];
  /** Whether a body of this type and size is compressed at all (JSON and text, `minBytes` and up). */
  worth(contentType: string | undefined, bytes: number): boolean;
  encode(body: Buffer, coding: ContentCoding): Promise<Buffer>;
  /** A client negotiated this coding: pages stored within DEMAND_MS are stored in it too. */
  demand(coding: ContentCoding): void;
  /**
   * The body in every offered coding clients asked for within DEMAND_MS (a page stored in the
   * cache), else undefined (not worth it, or no coding in demand).
   */
  encodeAll(body: Buffer, contentType: string | undefined): Promise<Record<string, Buffer> | undefined>;
  /**
   * A stored page's form in a coding it was stored without (stored before any client asked for
   * that coding, or cut from a block): made once per digest and coding, then kept (within
   * `lateFormsBytes`) for the hits that follow; synchronous when kept.
   */
  lateForm(digest: string, body: Buffer, coding: ContentCoding): Buffer | Promise<Buffer>;
  /** The body's digest, for its entity tags (sha256, 128 bits in base64url). */
  digest(body: Buffer): string;
}

export interface BodyCoderDeps {
  now?: () => number;
  /** Bytes of late forms kept (BodyCoder.lateForm); default 16 MiB. */
  lateFormsBytes?: number;
  /** Told of each late form made (a metric: a steady rate means lateFormsBytes is too small). */
  onLateForm?: (coding: ContentCoding) => void;
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);
const COMPRESSIBLE = /^(?:application\/(?:[\w.+-]*\+)?json|text\/)/i;

export function createBodyCoder(options: CompressionOptions = DEFAULT_COMPRESSION, deps: BodyCoderDeps = {}): BodyCoder {
  const { now = Date.now, onLateForm } = deps;
  const { enabled, encodings, minBytes, level } = options;
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new Error(`compression: level must be an integer 1-9, not ${level}`);
  if (!Number.isInteger(minBytes) || minBytes < 0) throw new Error(`compression: minBytes must be a non-negative integer, not ${minBytes}`);
  for (const e of encodings) if (!CONTENT_CODINGS.includes(e)) throw new Error(`compression: unknown encoding ${String(e)}`);
  const offered = enabled ? [...new Set(encodings)] : [];
  /** When a client last negotiated each coding. */
  const askedAt = new Map<ContentCoding, number>();

  function encode(body: Buffer, coding: ContentCoding): Promise<Buffer> {
    // One output buffer for most pages (zlib's default is 16 KiB): each one filled is a turn of
    // the event loop, and a 600 KB page took a dozen of them.
    const chunkSize = Math.min(Math.max(body.byteLength >> 2, 16 * 1024), 256 * 1024);
    if (coding === 'gzip') return gzipAsync(body, { level, chunkSize });
    return brotliAsync(body, {
      chunkSize,
      params: {
        [constants.BROTLI_PARAM_QUALITY]: level,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength,
      },
    });
  }

  // Keyed by the digest of the exact bytes: a form is the same whichever stored page it is of.
  const late = createBufferMemo(deps.lateFormsBytes ?? 16 * 1024 * 1024, ({ bytes, how }) => {
    const coding = how as ContentCoding;
    onLateForm?.(coding);
    return encode(bytes, coding);
  });

  function worth(contentType: string | undefined, bytes: number): boolean {
    return offered.length > 0 && bytes >= minBytes && contentType !== undefined && COMPRESSIBLE.test(contentType);
  }

  return {
    offered,
    worth,
    encode,
    demand(coding) {
      if (offered.includes(coding)) askedAt.set(coding, now());
    },
    async encodeAll(body, contentType) {
      if (!worth(contentType, body.byteLength)) return undefined;
      const since = now() - DEMAND_MS;
      const wanted = offered.filter((c) => (askedAt.get(c) ?? -Infinity) > since);
      if (wanted.length === 0) return undefined;
      const out = await Promise.all(wanted.map((c) => encode(body, c)));
      const encoded: Record<string, Buffer> = {};
      wanted.forEach((c, i) => (encoded[c] = out[i]!));
      return encoded;
    },
    lateForm(digest, body, coding) {
      const key = `${coding}:${digest}`;
      return late.peek(key) ?? late.get(key, { bytes: body, how: coding });
    },
    digest: (body) => createHash('sha256').update(body).digest('base64url').slice(0, 22),
  };
}
