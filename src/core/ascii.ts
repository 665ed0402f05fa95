// ASCII case folding on bytes, for searches that ignore case without decoding a page (the
// redactor's byte pre-check). The lower-case copy lives only during the search: one scratch
// buffer, kept for pages up to 8 MiB, spares each page a fresh 600 KB allocation and its page
// faults.
const SCRATCH_MAX = 8 * 1024 * 1024;
let scratch = Buffer.alloc(0);

/** `bytes` with ASCII letters in lower case (UTF-8 sequences are left as they are) and the `blank` ranges zeroed; valid until the next call. */
export function lowerAscii(bytes: Buffer, blank: readonly number[] = []): Buffer {
  const n = bytes.length;
  if (scratch.length < n && n <= SCRATCH_MAX) scratch = Buffer.alloc(Math.min(SCRATCH_MAX, Math.max(n, scratch.length * 2)));
  const out = n <= SCRATCH_MAX ? scratch.subarray(0, n) : Buffer.allocUnsafe(n);
  // A native copy, then four bytes at a time, written only where a word holds a capital: a
  // byte-by-byte copy costs three times as much on a 600 KB page, a byte loop twice the words'.
  bytes.copy(out);
  let k = 0;
  if (out.byteOffset % 4 === 0) {
    const words = new Int32Array(out.buffer, out.byteOffset, n >>> 2);
    for (let w = 0; w < words.length; w++) {
      const word = words[w]!;
      // Per byte, without carries between bytes: the high bit set where the byte is ASCII and
      // at least 'A' (0x41 + 0x3f = 0x80) but not past 'Z' (0x5b + 0x25 = 0x80).
      const low = word & 0x7f7f7f7f;
      const capitals = ~word & ((low + 0x3f3f3f3f) ^ (low + 0x25252525)) & 0x80808080;
      if (capitals !== 0) words[w] = word | (capitals >>> 2);
    }
    k = words.length * 4;
  }
  for (; k < n; k++) {
    const c = out[k]!;
    if (c >= 0x41 && c <= 0x5a) out[k] = c | 0x20;
  }
  for (let k = 0; k + 1 < blank.length; k += 2) out.fill(0, blank[k], blank[k + 1]);
  return out;
}

