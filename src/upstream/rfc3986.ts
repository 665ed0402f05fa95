// The encoding itself is pure and shared with the core (Link headers); the parser is the
// upstream's, used to read back exactly what was put on the wire before signing.
export { buildQueryString, encodeRfc3986 } from '../core/rfc3986.js';

/**
 * Splits a query string into decoded pairs, in order. Splits on the first '=' only (a filter
 * such as status='active' keeps its '='), and reads '+' as a space as RFC 5849 §3.4.1.3.1
 * asks (application/x-www-form-urlencoded); buildQueryString never writes '+', so it round-trips.
 */
export function parseQueryString(qs: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const part of qs.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawKey = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? '' : part.slice(eq + 1);
    pairs.push([decodeComponent(rawKey), decodeComponent(rawValue)]);
  }
  return pairs;
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new TypeError('malformed percent-encoding in query string');
  }
}
