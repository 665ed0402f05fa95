// Percent-encoding and form decoding as OAuth 1.0a needs them. Written here rather than
// shared with the gateway, so the sandbox checks the gateway's signer with different code.

/** RFC 5849 §3.6: everything but ALPHA DIGIT - . _ ~ is encoded, with upper-case hex. */
export function percentEncode(value: string): string {
  // encodeURIComponent leaves ! ' ( ) * alone; RFC 3986 unreserved does not include them.
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Throws URIError on malformed escapes; callers treat that as a bad request. */
export function percentDecode(value: string): string {
  return decodeURIComponent(value);
}

/**
 * application/x-www-form-urlencoded decoding (RFC 5849 §3.4.1.3.1 points at the HTML
 * form rules): '+' is a space, pairs split on '&', name and value on the first '='.
 */
export function decodeForm(raw: string): [string, string][] {
  // Empty segments ("a=1&&b=2") carry no parameter, as in URLSearchParams.
  return raw.split('&').filter((pair) => pair !== '').map((pair): [string, string] => {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    return [formDecode(name), formDecode(value)];
  });
}

export function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}
