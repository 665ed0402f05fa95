// The bodies districts send compressed (Content-Encoding: gzip, deflate, br), decoded as they
// arrive. The caller counts what comes out of here, so every byte cap applies to the decoded
// size: a 64 KB gzip that would expand to gigabytes stops at the cap (no decompression bomb).
import { pipeline, Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';

/** What the gateway asks districts for (Accept-Encoding); identity stays acceptable. */
export const ACCEPTED_CODINGS = 'gzip, deflate, br';

// Output chunks of this size at most: the cap is checked at least this often.
const CHUNK = 16 * 1024;
// A body coded more times than this is refused: no real server stacks codings.
const MAX_CODINGS = 2;

/** The codings of a Content-Encoding value in the order they were applied; [] for identity; undefined for one the gateway cannot decode. */
export function codingsOf(value: string | undefined): string[] | undefined {
  if (value === undefined) return [];
  const list = value
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (list.length > MAX_CODINGS) return undefined;
  return list.every((c) => c === 'gzip' || c === 'x-gzip' || c === 'deflate' || c === 'br') ? list : undefined;
}

type Chunks = AsyncIterable<Buffer>;

/**
 * The decoded chunks of `body` (coded with `codings`, first applied first). `deflate` is read
 * as zlib-wrapped, or raw when the first byte says so (servers send both).
 */
export function decoded(body: Chunks, codings: readonly string[]): Chunks {
  let out: Chunks = body;
  for (let i = codings.length - 1; i >= 0; i--) out = decodeOne(out, codings[i]!);
  return out;
}

function decodeOne(input: Chunks, coding: string): Chunks {
  return {
    async *[Symbol.asyncIterator]() {
      const it = input[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done) return;
      const decoder = pick(coding, first.value[0]);
      async function* all(): AsyncGenerator<Buffer> {
        yield first.value as Buffer;
        for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
      }
      const source = Readable.from(all(), { objectMode: false });
      // Backpressure end to end: the decoder makes the next output chunk only when this one is
      // taken, so the caller's count stops a bomb within a chunk of the cap.
      pipeline(source, decoder, () => {});
      try {
        for await (const chunk of decoder as AsyncIterable<Buffer>) yield chunk;
      } finally {
        decoder.destroy();
        source.destroy();
      }
    },
  };
}

function pick(coding: string, firstByte: number | undefined) {
  const opts = { chunkSize: CHUNK };
  if (coding === 'br') return createBrotliDecompress(opts);
  // RFC 1950: a zlib stream's first byte has compression method 8 in its low nibble.
  if (coding === 'deflate') return ((firstByte ?? 0) & 0x0f) === 8 ? createInflate(opts) : createInflateRaw(opts);
  return createGunzip(opts);
}
