// A validating JSON scanner over UTF-8 bytes that builds nothing. A 1000-record page is 600 KB;
// JSON.parse of it builds some 30,000 objects and strings (and their garbage) only for the
// gateway to learn that it is valid JSON, how many records its list holds and where its hrefs
// are, then JSON.stringify writes it all again. This scanner answers those three questions in
// one pass over the bytes the district sent, so a page that needs no more than its hrefs
// re-rooted goes out as the district's own bytes with those strings replaced.
//
// It accepts exactly what JSON.parse accepts (RFC 8259; the property test holds it to that),
// except that it reads bytes: it does not check that they are well-formed UTF-8, as decoding
// them for JSON.parse would have replaced bad sequences rather than refused them.

/** A member of the top-level object: where its value is, and how many elements when it is an array. */
export interface TopMember {
  kind: 'object' | 'array' | 'string' | 'number' | 'literal';
  /** Byte offsets of the value: [start, end). */
  start: number;
  end: number;
  /** Elements, for an array. */
  count: number;
}

export interface JsonScan {
  /** The members of the top-level value when it is an object (the last of a repeated key, as JSON.parse keeps); else undefined. */
  members: Map<string, TopMember> | undefined;
  /**
   * Byte offsets [start, end) of the string values (quotes included, never keys) that are the
   * value of a member named `href`, or whose bytes start with the `prefix` asked for; in order.
   */
  strings: number[];
}

const decodeKey = (b: Uint8Array, start: number, end: number): string => JSON.parse(Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8')) as string;

const OBJECT = 0;
const ARRAY = 1;
const HREF = [0x68, 0x72, 0x65, 0x66]; // href

/** Offset after the string whose opening quote is at `i`, or -1 when it is not a valid JSON string. */
function stringEnd(b: Uint8Array, i: number): number {
  // Byte by byte: strings are short (a dozen bytes on average), shorter than a native search pays off on.
  const n = b.length;
  for (i++; i < n; ) {
    const c = b[i]!;
    if (c === 0x22) return i + 1;
    if (c === 0x5c) {
      const e = b[i + 1];
      if (e === 0x75) {
        for (let k = i + 2; k < i + 6; k++) if (!isHex(b[k])) return -1;
        i += 6;
      } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) i += 2;
      else return -1;
    } else if (c < 0x20) return -1;
    else i++;
  }
  return -1;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/** Offset after the number starting at `i`, or -1. */
function numberEnd(b: Uint8Array, i: number): number {
  if (b[i] === 0x2d) i++;
  if (b[i] === 0x30) i++;
  else if (isDigit(b[i])) while (isDigit(b[i])) i++;
  else return -1;
  if (b[i] === 0x2e) {
    i++;
    if (!isDigit(b[i])) return -1;
    while (isDigit(b[i])) i++;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    if (!isDigit(b[i])) return -1;
    while (isDigit(b[i])) i++;
  }
  return i;
}

const LITERALS: Record<number, number[]> = {
  0x74: [0x74, 0x72, 0x75, 0x65], // true
  0x66: [0x66, 0x61, 0x6c, 0x73, 0x65], // false
  0x6e: [0x6e, 0x75, 0x6c, 0x6c], // null
};

function literalEnd(b: Uint8Array, i: number): number {
  const word = LITERALS[b[i]!];
  if (!word) return -1;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return -1;
  return i + word.length;
}

function skipSpace(b: Uint8Array, i: number): number {
  for (;;) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

/** `b` holds `prefix` from offset `at`. */
export function bytesAt(b: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > b.length) return false;
  for (let k = 0; k < prefix.length; k++) if (b[at + k] !== prefix[k]) return false;
  return true;
}

/** The key token [start, end) reads `href`, written plainly or with escapes (`"h\\u0072ef"`). */
function isHrefKey(b: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  if (len === 6) return b[start + 1] === HREF[0] && b[start + 2] === HREF[1] && b[start + 3] === HREF[2] && b[start + 4] === HREF[3];
  // Escaped: it starts with `h` or an escape, and four characters take at most 24 bytes.
  if (len > 26 || len < 6 || (b[start + 1] !== HREF[0] && b[start + 1] !== 0x5c)) return false;
  for (let k = start + 1; k < end - 1; k++) if (b[k] === 0x5c) return decodeKey(b, start, end) === 'href';
  return false;
}

/**
 * Scans `bytes` as one JSON text; undefined when JSON.parse would refuse it. `prefix`: string
 * values starting with these bytes (after the opening quote) are reported in `strings`.
 */
export function scanJson(bytes: Uint8Array, prefix: Uint8Array = new Uint8Array(0)): JsonScan | undefined {
  const b = bytes;
  const stack: number[] = [];
  const strings: number[] = [];
  let members: Map<string, TopMember> | undefined;
  let member: TopMember | undefined;
  let hrefValue = false;
  let i = skipSpace(b, 0);
  // Each turn reads one value at `i`, then what follows it up to the next value.
  for (;;) {
    const c = b[i];
    const start = i;
    const top = stack.length === 1 ? member : undefined;
    if (c === 0x7b || c === 0x5b) {
      if (top) [top.kind, top.start] = [c === 0x7b ? 'object' : 'array', start];
      stack.push(c === 0x7b ? OBJECT : ARRAY);
      if (stack.length === 1 && c === 0x7b) members = new Map();
      i = skipSpace(b, i + 1);
      if (b[i] !== (c === 0x7b ? 0x7d : 0x5d)) {
        if (c === 0x7b) i = readKey(i);
        else hrefValue = false;
        if (i < 0) return undefined;
        continue;
      }
      stack.pop();
      i++;
    } else {
      if (c === 0x22) {
        i = stringEnd(b, i);
        if (i >= 0 && (hrefValue || prefix.length > 0 && bytesAt(b, start + 1, prefix))) strings.push(start, i);
      } else i = c === 0x2d || isDigit(c) ? numberEnd(b, i) : literalEnd(b, i);
      if (i < 0) return undefined;
      if (top) [top.kind, top.start] = [c === 0x22 ? 'string' : c === 0x2d || isDigit(c) ? 'number' : 'literal', start];
    }
    // After a value: close every container it ends, up to the next value or the end.
    for (;;) {
      const depth = stack.length;
      if (depth === 1 && member) member.end = i;
      else if (depth === 2 && member && stack[1] === ARRAY) member.count++;
      i = skipSpace(b, i);
      if (depth === 0) return i === b.length ? { members, strings } : undefined;
      const open = stack[depth - 1];
      const d = b[i];
      if (d === 0x2c) {
        i = skipSpace(b, i + 1);
        if (open === OBJECT) i = readKey(i);
        else hrefValue = false;
        if (i < 0) return undefined;
        break;
      }
      if (d !== (open === OBJECT ? 0x7d : 0x5d)) return undefined;
      stack.pop();
      i++;
    }
  }

  /** Reads `"key" :` at `k`; returns the offset of the value, or -1. Sets what the value is reported as. */
  function readKey(k: number): number {
    if (b[k] !== 0x22) return -1;
    const end = stringEnd(b, k);
    if (end < 0) return -1;
    hrefValue = isHrefKey(b, k, end);
    if (stack.length === 1 && members) {
      member = { kind: 'literal', start: -1, end: -1, count: 0 };
      members.set(decodeKey(b, k, end), member);
    }
    const colon = skipSpace(b, end);
    if (b[colon] !== 0x3a) return -1;
    return skipSpace(b, colon + 1);
  }
}
