// An RFC 5849 signature check written independently of src/upstream (own encoder, own
// parser, no oauth-1.0a), so the signing code is tested against the RFC and not against itself.
import { createHmac, timingSafeEqual } from 'node:crypto';

const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));

export function parseAuthorization(header: string): Record<string, string> {
  if (!header.startsWith('OAuth ')) throw new Error('not an OAuth header');
  const out: Record<string, string> = {};
  for (const m of header.slice(6).matchAll(/([A-Za-z0-9_]+)="([^"]*)"/g)) out[m[1]!] = decodeURIComponent(m[2]!);
  return out;
}

/** Base string per RFC 5849 §3.4.1 for a request as received: method, full URL, Authorization. */
export function baseString(method: string, url: string, oauthParams: Record<string, string>): string {
  const u = new URL(url);
  const defaultPort = (u.protocol === 'http:' && u.port === '80') || (u.protocol === 'https:' && u.port === '443');
  const baseUri = `${u.protocol}//${u.hostname.toLowerCase()}${u.port && !defaultPort ? ':' + u.port : ''}${u.pathname}`;
  const pairs: Array<[string, string]> = [];
  const rawQuery = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  for (const part of rawQuery.split('&').filter(Boolean)) {
    const i = part.indexOf('=');
    pairs.push(i === -1 ? [dec(part), ''] : [dec(part.slice(0, i)), dec(part.slice(i + 1))]);
  }
  for (const [k, v] of Object.entries(oauthParams)) if (k !== 'oauth_signature' && k !== 'realm') pairs.push([k, v]);
  const encoded = pairs.map(([k, v]) => [enc(k), enc(v)] as const);
  encoded.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const normalized = encoded.map(([k, v]) => `${k}=${v}`).join('&');
  return `${method.toUpperCase()}&${enc(baseUri)}&${enc(normalized)}`;
}

export function verifyOAuth1(method: string, url: string, authorization: string, consumerSecret: string): boolean {
  const params = parseAuthorization(authorization);
  const alg = params.oauth_signature_method === 'HMAC-SHA256' ? 'sha256' : params.oauth_signature_method === 'HMAC-SHA1' ? 'sha1' : undefined;
  if (!alg || !params.oauth_signature) return false;
  const expected = createHmac(alg, `${enc(consumerSecret)}&`).update(baseString(method, url, params)).digest();
  const got = Buffer.from(params.oauth_signature, 'base64');
  return got.length === expected.length && timingSafeEqual(got, expected);
}
