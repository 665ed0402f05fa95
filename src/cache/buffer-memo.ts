// Buffers made on demand and kept, bounded in bytes (lru-cache): the first ask makes one,
// concurrent asks for the same key wait for that one (lru-cache's fetch coalesces them), later
// asks get it at once until it is pushed out.
import { LRUCache } from 'lru-cache';

/** What a buffer is made from: the bytes, and how (opaque to the memo). */
export interface MadeFrom {
  bytes: Buffer;
  how: string;
}

export interface BufferMemo {
  /** The kept buffer, synchronously; undefined when there is none yet. */
  peek(key: string): Buffer | undefined;
  /** The kept buffer, or the one being made for `key`, or a new one made from `from`. */
  get(key: string, from: MadeFrom): Promise<Buffer>;
}

// What lru-cache and the key cost beside the bytes, roughly.
const PER_ITEM = 64;

export function createBufferMemo(maxBytes: number, make: (from: MadeFrom) => Promise<Buffer>): BufferMemo {
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new Error(`bufferMemo: maxBytes must be a positive integer, not ${maxBytes}`);
  if (typeof make !== 'function') throw new Error('bufferMemo: make is required');
  const kept = new LRUCache<string, Buffer, MadeFrom>({
    maxSize: maxBytes,
    sizeCalculation: (b, k) => b.byteLength + k.length + PER_ITEM,
    fetchMethod: (_key, _stale, { context }) => make(context),
  });
  return {
    peek: (key) => kept.get(key),
    async get(key, from) {
      // A buffer over maxBytes is made, handed out and not kept (lru-cache refuses it).
      const made = await kept.fetch(key, { context: from });
      if (!made) throw new Error('bufferMemo: nothing made');
      return made;
    },
  };
}
