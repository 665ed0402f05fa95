// RFC 3986 §2.3: only ALPHA / DIGIT / "-" / "." / "_" / "~" stay unencoded. OAuth 1.0a
// (RFC 5849 §3.6) signs exactly this form, so the wire and the base string must agree;
// encodeURIComponent alone leaves ! ' ( ) * bare.
export function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `k=v&k=v` with every key and value RFC 3986-encoded, in the given order. */
export function buildQueryString(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`).join('&');
}
