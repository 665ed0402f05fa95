// Reading a district's answer body within its bounds: the answer's byte cap, the district's
// in-flight budget, its declared length; into one buffer, with room to grow for large ones.
import type { ByteBudget } from './byte-budget.js';
import { UpstreamError } from './types.js';

// An answer of this size or more is read into a buffer an eighth larger than it: re-rooting the
// hrefs of a 1000-record page at the gateway's (longer) root then rewrites it where it lies
// instead of writing a second page-sized buffer (BENCHMARKS.md, issue 17: 1.7 ms of CPU per
// page, 3.5 ms with the Dockerfile's malloc setting). The in-flight budget and the district's
// held-bytes ledger count the answer, not that eighth: memory may pass them by an eighth.
const ROOM_FROM_BYTES = 16 * 1024;

/** Content-Length as a number, or undefined when absent or malformed (undici rejects those anyway). */
export function declaredLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

type Body = AsyncIterable<Buffer> & { destroy(err?: Error): unknown; on(event: 'error', listener: () => void): unknown };
export type Chunks = AsyncIterable<Buffer> | Body;

/** Drops the connection. undici reports a body destroyed unread as an 'error': nobody needs it. */
export function drop(body: Chunks): void {
  // A decoded view stops with its iteration; the connection is dropped by the caller.
  if (!('destroy' in body)) return;
  body.on('error', () => {});
  body.destroy();
}

/**
 * Reads the body within `limit` and the district's in-flight budget. A declared length is
 * checked and counted before the first byte is read, so a 600 MB Content-Length costs nothing;
 * without one, every chunk is counted as it arrives. The budget is given back however this ends.
 */
export async function readBody(body: Chunks, declared: number | undefined, limit: number, budget: ByteBudget, districtId: string): Promise<{ body: Buffer; room: number }> {
  const tooLarge = () => new UpstreamError('UPSTREAM_TOO_LARGE', `response from district "${districtId}" exceeds ${limit} bytes`, districtId);
  const busy = () =>
    new UpstreamError('UPSTREAM_BUSY', `district "${districtId}" is busy: its answers being read at once would pass maxInFlightBytes`, districtId);
  if (declared !== undefined && declared > limit) {
    drop(body);
    throw tooLarge();
  }
  let counted = 0;
  if (declared !== undefined) {
    if (!budget.take(declared)) {
      drop(body);
      throw busy();
    }
    counted = declared;
  }
  try {
    // With a declared length the body goes straight into one buffer: no chunk list and no
    // concat, so an answer costs its size once instead of twice at the end.
    const whole = declared === undefined ? undefined : declared < ROOM_FROM_BYTES ? Buffer.allocUnsafe(declared) : Buffer.allocUnsafeSlow(declared + (declared >> 3));
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += chunk.length;
      if (size > limit) {
        drop(body);
        throw tooLarge();
      }
      if (size > counted) {
        if (!budget.take(size - counted)) {
          drop(body);
          throw busy();
        }
        counted = size;
      }
      if (whole && size <= declared!) chunk.copy(whole, size - chunk.length);
      else if (whole) {
        // More than its Content-Length: undici normally catches this first.
        drop(body);
        throw new UpstreamError('UPSTREAM_UNREACHABLE', `response from district "${districtId}" is longer than its Content-Length`, districtId);
      } else chunks.push(chunk);
    }
    // Its own buffer (the room after it included), unless shorter than declared (undici normally
    // fails those): then a copy, not the large buffer.
    if (whole && size === declared) return { body: whole.length === size ? whole : whole.subarray(0, size), room: whole.length - size };
    return { body: whole ? Buffer.from(whole.subarray(0, size)) : Buffer.concat(chunks, size), room: 0 };
  } finally {
    budget.give(counted);
  }
}
