// OAuth 1.0a request verification, written from RFC 5849 (two-legged: consumer key and
// secret, no token), as OneRoster 1.1 servers do it.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeForm, percentDecode, percentEncode } from './rfc3986.js';

const TIMESTAMP_WINDOW_S = 600;
const HMAC: Record<string, string> = { 'HMAC-SHA256': 'sha256', 'HMAC-SHA1': 'sha1' };

export interface OAuth1Request {
  method: string;
  /** 'http' or 'https' */
  scheme: string;
  /** The Host header as received, e.g. '127.0.0.1:43123'. */
  host: string;
  /** Path without query, as received (still percent-encoded). */
  path: string;
  /** Raw query string without '?'. */
  query: string;
  authorization?: string;
  /** Raw body, only used when the content type is form-urlencoded (RFC 5849 §3.4.1.3.1). */
  formBody?: string;
}

export type OAuth1Result = { ok: true; consumerKey: string } | { ok: false; reason: string };

/**
 * RFC 5849 §3.5.1: `OAuth realm="x", oauth_consumer_key="...", ...`. Values are
 * percent-encoded, so they hold no raw commas or quotes and a split on ',' is safe.
 */
export function parseAuthorizationHeader(header: string): [string, string][] | null {
  const m = /^OAuth(?:\s+(.*))?$/is.exec(header.trim());
  if (!m) return null;
  const body = (m[1] ?? '').trim();
  if (body === '') return [];
  const params: [string, string][] = [];
  for (const part of body.split(',')) {
    const kv = /^\s*([^\s=]+)\s*=\s*"([^"]*)"\s*$/.exec(part);
    if (!kv) return null;
    params.push([percentDecode(kv[1] as string), percentDecode(kv[2] as string)]);
  }
  return params;
}

/** RFC 5849 §3.4.1.2: lower-case scheme and host, default port dropped, path kept, no query. */
export function baseStringUri(scheme: string, host: string, path: string): string {
  const s = scheme.toLowerCase();
  let h = host.toLowerCase();
  if ((s === 'http' && h.endsWith(':80')) || (s === 'https' && h.endsWith(':443'))) h = h.slice(0, h.lastIndexOf(':'));
  return `${s}://${h}${path}`;
}

/** RFC 5849 §3.4.1.3.2: encode names and values, sort by name then value, join. */
export function normalizeParameters(params: readonly (readonly [string, string])[]): string {
  return params
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** RFC 5849 §3.4.1.1: METHOD & enc(base URI) & enc(normalized parameters). */
export function signatureBaseString(method: string, uri: string, params: readonly (readonly [string, string])[]): string {
  return [method.toUpperCase(), percentEncode(uri), percentEncode(normalizeParameters(params))].join('&');
}

/** Remembers nonces per timestamp long enough to outlive the timestamp window. */
export class NonceLedger {
  private readonly seen = new Map<string, number>();
  /** Returns false when the nonce was already used with this key and timestamp. */
  claim(consumerKey: string, timestamp: string, nonce: string, nowS: number): boolean {
    if (this.seen.size > 10_000) this.prune(nowS);
    const key = `${consumerKey}\n${timestamp}\n${nonce}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, Number(timestamp));
    return true;
  }
  private prune(nowS: number): void {
    for (const [k, ts] of this.seen) if (Math.abs(nowS - ts) > TIMESTAMP_WINDOW_S) this.seen.delete(k);
  }
}

export interface OAuth1Verifier {
  verify(req: OAuth1Request): OAuth1Result;
}

export function oauth1Verifier(consumerKey: string, consumerSecret: string, now: () => number): OAuth1Verifier {
  const nonces = new NonceLedger();
  return {
    verify(req) {
      try {
        return verifyOnce(req, consumerKey, consumerSecret, now, nonces);
      } catch {
        return { ok: false, reason: 'malformed percent-encoding' };
      }
    },
  };
}

function verifyOnce(req: OAuth1Request, key: string, secret: string, now: () => number, nonces: NonceLedger): OAuth1Result {
  const queryParams = decodeForm(req.query);
  const headerParams = req.authorization ? parseAuthorizationHeader(req.authorization) : null;
  if (req.authorization && !headerParams && /^OAuth\b/i.test(req.authorization)) return { ok: false, reason: 'malformed OAuth header' };
  // RFC 5849 §3.5.3: without an OAuth header the protocol parameters may ride in the query.
  const protocol = (headerParams ?? queryParams).filter(([k]) => k.startsWith('oauth_'));
  const oauth = new Map<string, string>();
  for (const [k, v] of protocol) {
    if (oauth.has(k)) return { ok: false, reason: `duplicate ${k}` };
    oauth.set(k, v);
  }
  const missing = ['oauth_consumer_key', 'oauth_signature_method', 'oauth_signature', 'oauth_timestamp', 'oauth_nonce'].filter((k) => !oauth.has(k));
  if (missing.length > 0) return { ok: false, reason: `missing ${missing.join(', ')}` };
  const get = (k: string): string => oauth.get(k) ?? '';
  if (get('oauth_consumer_key') !== key) return { ok: false, reason: 'unknown consumer key' };
  if (oauth.has('oauth_version') && get('oauth_version') !== '1.0') return { ok: false, reason: 'oauth_version must be 1.0' };
  if (get('oauth_token') !== '') return { ok: false, reason: 'tokens are not used (two-legged OAuth)' };
  const algorithm = HMAC[get('oauth_signature_method')];
  if (!algorithm) return { ok: false, reason: `unsupported signature method ${get('oauth_signature_method')}` };
  const timestamp = get('oauth_timestamp');
  const nowS = Math.floor(now() / 1000);
  if (!/^\d+$/.test(timestamp) || Math.abs(nowS - Number(timestamp)) > TIMESTAMP_WINDOW_S) {
    return { ok: false, reason: 'timestamp outside the accepted window' };
  }
  // §3.4.1.3.1: query + header (minus realm) + form body, never the signature itself.
  const fromHeader = (headerParams ?? []).filter(([k]) => k !== 'realm');
  const fromBody = req.formBody ? decodeForm(req.formBody) : [];
  const signed = [...queryParams, ...fromHeader, ...fromBody].filter(([k]) => k !== 'oauth_signature');
  const base = signatureBaseString(req.method, baseStringUri(req.scheme, req.host, req.path), signed);
  const expected = createHmac(algorithm, `${percentEncode(secret)}&`).update(base).digest();
  const given = Buffer.from(get('oauth_signature'), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature mismatch' };
  // Only a correctly signed request may use up a nonce, so forgeries cannot burn them.
  if (!nonces.claim(key, timestamp, get('oauth_nonce'), nowS)) return { ok: false, reason: 'nonce already used' };
  return { ok: true, consumerKey: key };
}
