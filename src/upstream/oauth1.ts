// Two-legged OAuth 1.0a (RFC 5849) as OneRoster 1.1 servers expect it: consumer key and
// secret, no token, HMAC-SHA256 by default. Signing happens per attempt, so every attempt,
// a retry included, carries a fresh nonce and timestamp (servers reject reused nonces).
import { createHmac, randomBytes } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import type { AuthScheme } from './http.js';
import { parseQueryString } from './rfc3986.js';

export type OAuth1SignatureMethod = 'HMAC-SHA256' | 'HMAC-SHA1';

export interface OAuth1Options {
  consumerKey: string;
  consumerSecret: string;
  signatureMethod?: OAuth1SignatureMethod;
  /** Clock for oauth_timestamp, in ms (tests and servers with fake clocks). */
  now?: () => number;
}

export function oauth1(options: OAuth1Options): AuthScheme {
  const { consumerKey, consumerSecret } = options;
  const signatureMethod = options.signatureMethod ?? 'HMAC-SHA256';
  if (!consumerKey) throw new Error('oauth1: consumerKey is required');
  if (!consumerSecret) throw new Error('oauth1: consumerSecret is required');
  if (signatureMethod !== 'HMAC-SHA256' && signatureMethod !== 'HMAC-SHA1') {
    throw new Error(`oauth1: signatureMethod must be HMAC-SHA256 or HMAC-SHA1, got ${String(signatureMethod)}`);
  }
  const algorithm = signatureMethod === 'HMAC-SHA256' ? 'sha256' : 'sha1';
  const signer = new OAuth({
    consumer: { key: consumerKey, secret: consumerSecret },
    signature_method: signatureMethod,
    hash_function: (base, key) => createHmac(algorithm, key).update(base).digest('base64'),
  });
  // The library's nonce comes from Math.random; a CSPRNG makes collisions a non-question.
  signer.getNonce = () => randomBytes(16).toString('hex');
  const now = options.now;
  if (now) signer.getTimeStamp = () => Math.floor(now() / 1000);

  return (next) =>
    async function oauth1Send(req) {
      const authorization = signer.toHeader(signer.authorize(signatureInput(req.method, req.origin, req.path))).Authorization;
      return next({ ...req, headers: { ...req.headers, authorization } });
    };
}

/**
 * What oauth-1.0a should sign for the request-target actually sent. The parameters come from
 * the wire query itself, so what is signed is what is sent. They are handed over decoded as
 * `data` with a query-less URL rather than as part of the URL: oauth-1.0a's URL parsing
 * splits each pair on every '=' and never decodes keys, so an encoded key would be signed
 * double-encoded. Given `data`, it RFC 3986-encodes keys and values and sorts them itself.
 * JSON bodies are not form parameters and stay out of the signature (RFC 5849 §3.4.1.3.1).
 */
export function signatureInput(method: string, origin: string, path: string): OAuth.RequestOptions {
  const q = path.indexOf('?');
  const pathname = q === -1 ? path : path.slice(0, q);
  // Null prototype: keys like "constructor" are data here, not Object.prototype members.
  const data: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of q === -1 ? [] : parseQueryString(path.slice(q + 1))) {
    // oauth-1.0a merges parameters into plain objects: '__proto__' would vanish from the
    // signature and an oauth_* key would overwrite the protocol's own parameters.
    if (key === '__proto__' || key.startsWith('oauth_')) throw new Error(`oauth1: query parameter "${key}" cannot be signed`);
    const seen = data[key];
    // Repeated keys become arrays; oauth-1.0a then signs each pair, values sorted (§3.4.1.3.2).
    data[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return { method, url: normalizeBaseUri(origin) + pathname, data };
}

/** RFC 5849 §3.4.1.2: lower-case scheme and host, default port dropped. oauth-1.0a does not do this. */
export function normalizeBaseUri(origin: string): string {
  // URL#origin lower-cases scheme and host and omits :80 for http and :443 for https.
  return new URL(origin).origin;
}
