// Content negotiation of Accept-Encoding (RFC 9110 §12.5.3): which coding the client gets.
// Pure: the caller passes the header and the codings it can offer.

/** The content codings the gateway can answer with besides identity. */
export const CONTENT_CODINGS = ['br', 'gzip'] as const;
export type ContentCoding = (typeof CONTENT_CODINGS)[number];

// A member is `coding` or `coding;q=value`; other parameters are not defined for this header.
const MEMBER = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*(?:;\s*q\s*=\s*([0-9.]+))?$/;
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;
// The header is bounded by Node's header limit; members past this many are not read.
const MAX_MEMBERS = 64;

/**
 * The coding to answer with: among `offered` (in the server's order of preference), the one the
 * client weights highest; identity when the client weights identity strictly higher, when
 * nothing offered is acceptable, or when the header is absent or empty (no coding is assumed
 * welcome). Malformed members are ignored; `x-gzip` is gzip (§8.4.1.3); `*` covers codings not
 * named; `q=0` refuses one. A client that refuses identity too still gets identity: the
 * gateway disregards the header rather than answer 406 (§12.5.3 allows both).
 */
export function negotiateEncoding(header: string | null | undefined, offered: readonly ContentCoding[]): ContentCoding | 'identity' {
  if (!header || offered.length === 0) return 'identity';
  const weights = new Map<string, number>();
  let n = 0;
  for (const raw of header.split(',')) {
    if (++n > MAX_MEMBERS) break;
    const m = MEMBER.exec(raw.trim());
    if (!m) continue;
    const q = m[2] === undefined ? 1 : QVALUE.test(m[2]) ? Number(m[2]) : Number.NaN;
    if (Number.isNaN(q)) continue;
    let coding = m[1]!.toLowerCase();
    if (coding === 'x-gzip') coding = 'gzip';
    // Named twice: the first one counts (as the common servers read it).
    if (!weights.has(coding)) weights.set(coding, q);
  }
  const any = weights.get('*');
  const weightOf = (c: string) => weights.get(c) ?? any ?? 0;
  let best: ContentCoding | undefined;
  let bestQ = 0;
  for (const c of offered) {
    const q = weightOf(c);
    if (q > bestQ) [best, bestQ] = [c, q];
  }
  if (!best) return 'identity';
  const identity = weights.get('identity');
  return identity !== undefined && identity > bestQ ? 'identity' : best;
}
