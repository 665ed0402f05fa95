// RFC 3986 §2.3 percent-encoding, the form OAuth 1.0a (RFC 5849 §3.6) and OneRoster servers
// rebuild signature base strings with. encodeURIComponent alone leaves ! ' ( ) * bare, and
// URLSearchParams writes spaces as '+': either makes a signed filter such as
// status='active' fail verification on strict servers.

/** Percent-encodes everything except A-Z a-z 0-9 - . _ ~ (UTF-8, upper-case hex). */
export function encodeRfc3986(value: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    // Lone UTF-16 surrogates have no UTF-8 form; say so instead of a bare URIError.
    throw new TypeError('cannot percent-encode a string holding a lone UTF-16 surrogate');
  }
  return encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `k=v&k=v` with every key and value RFC 3986-encoded, in the given order; '' when empty. */
export function buildQueryString(query: ReadonlyArray<readonly [string, string]>): string {
  return query.map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`).join('&');
}
