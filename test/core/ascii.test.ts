// The four-bytes-at-a-time lowering gives what a byte loop gives, for every byte in every lane.
import { describe, expect, it } from 'vitest';
import { lowerAscii } from '../../src/core/ascii.js';

const byByte = (b: Uint8Array) => Buffer.from(b.map((c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c)));

describe('lowerAscii', () => {
  it('lowers exactly A-Z, for every byte value in each of the four lanes of a word and in the tail', () => {
    for (const length of [4, 5, 6, 7, 8, 13]) {
      for (let lane = 0; lane < length; lane++) {
        for (let c = 0; c < 256; c++) {
          // The byte among neighbours that are capitals, non-ASCII and the bytes just outside A-Z.
          const bytes = Buffer.from(Array.from({ length }, (_, i) => (i === lane ? c : [0x41, 0x5a, 0x40, 0x5b, 0xc3, 0xff, 0x80, 0x60][(i + c) % 8]!)));
          const got = Buffer.from(lowerAscii(bytes));
          if (!got.equals(byByte(bytes))) expect([length, lane, c, got]).toEqual([length, lane, c, byByte(bytes)]);
        }
      }
    }
  });

  it('leaves its input alone, zeroes the ranges to pass over, and works past the scratch size', () => {
    const text = Buffer.from('Hello WORLD \u00c9t\u00c9 [at] `x` @Z', 'utf8');
    const copy = Buffer.from(text);
    expect(lowerAscii(text).toString('utf8')).toBe('hello world \u00c9t\u00c9 [at] `x` @z');
    expect(text.equals(copy)).toBe(true);
    expect(lowerAscii(Buffer.from('ABCDEFGH'), [2, 5]).toString('latin1')).toBe('ab\u0000\u0000\u0000fgh');
    const big = Buffer.alloc(8 * 1024 * 1024 + 3, 'Q');
    const low = lowerAscii(big);
    expect([low.length, low[0], low[low.length - 1], big[0]]).toEqual([big.length, 0x71, 0x71, 0x51]);
  });
});
