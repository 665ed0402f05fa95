// From a district request (a path below the district's baseUrl, decoded query pairs) to what
// goes on the wire, and back with the time the exchange took.
import { performance } from 'node:perf_hooks';
import type { Dispatch, Interceptor } from './dispatch.js';
import type { Send, TransportRequest } from './http.js';
import { buildQueryString } from './rfc3986.js';
import { ACCEPTED_CODINGS } from './content-decoding.js';
import { UpstreamError, type UpstreamRequest } from './types.js';

// Headers the caller may not set: the client owns authentication and connection management,
// and hop-by-hop headers (RFC 9110 §7.6.1) must not be forwarded by a proxy.
const FORBIDDEN_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'expect',
]);

const METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE']);

export interface WireTarget {
  districtId: string;
  /** scheme://host[:port] of the district's baseUrl. */
  origin: string;
  /** The baseUrl's path, no trailing slash. */
  basePath: string;
}

export function parseBaseUrl(baseUrl: string, districtId: string): { origin: string; basePath: string } {
  const fail = (why: string) => new Error(`upstream client for district "${districtId}": baseUrl ${why}`);
  if (typeof baseUrl !== 'string' || !URL.canParse(baseUrl)) throw fail('must be an absolute http(s) URL');
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fail('must be an absolute http(s) URL');
  if (url.username || url.password) throw fail('must not contain credentials');
  if (url.search || url.hash) throw fail('must not contain a query or fragment');
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') };
}

function toTransportRequest(req: UpstreamRequest, origin: string, basePath: string): TransportRequest {
  if (!METHODS.has(req.method)) throw new TypeError(`upstream request: unsupported method ${String(req.method)}`);
  // The path arrives encoded; a '?' or '#' would silently escape the signed query, and
  // whitespace or control characters make an invalid request-target.
  if (typeof req.path !== 'string' || !/^\/[^?#\s\x00-\x1f\x7f]*$/.test(req.path)) {
    throw new TypeError('upstream request: path must start with "/" and hold no query, fragment, whitespace or control characters');
  }
  const qs = buildQueryString(req.query ?? []);
  // Compressed answers are a tenth of the bytes on a district's often thin link (decoded with
  // every byte cap on the decoded size: content-decoding.ts).
  const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': ACCEPTED_CODINGS };
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    const key = name.toLowerCase();
    if (FORBIDDEN_HEADERS.has(key)) continue;
    headers[key] = value;
  }
  return {
    method: req.method,
    origin,
    path: basePath + req.path + (qs ? `?${qs}` : ''),
    headers,
    ...(req.body !== undefined && { body: req.body }),
    ...(req.signal && { signal: req.signal }),
  };
}

/**
 * A request that cannot go on the wire (bad method or path, a query that cannot be encoded)
 * fails here, before it waits for a slot or spends a rate token. Building it twice costs
 * microseconds; carrying it down would give every step below a second request type.
 */
export function wellFormed(target: WireTarget): Interceptor {
  return (next) =>
    function wellFormedRequest(req) {
      try {
        toTransportRequest(req, target.origin, target.basePath);
      } catch (err) {
        return Promise.reject(err);
      }
      return next(req);
    };
}

/**
 * The bottom of a district's chain: the request as sent on the wire through `send` (the auth
 * scheme around the transport), timed from here: below every slot and budget, so queue wait
 * is ours, not the upstream's.
 */
export function onTheWire(target: WireTarget, send: Send, logger?: { warn(o: object): void }, maxBodyBytes?: number): Dispatch {
  const { districtId, origin, basePath } = target;
  return async function wire(req) {
    const outgoing = toTransportRequest(req, origin, basePath);
    const started = performance.now();
    const res = await send(outgoing).catch((err: unknown) => {
      // The operator needs to know which district sends what the gateway refuses to hold.
      if (err instanceof UpstreamError && err.code === 'UPSTREAM_TOO_LARGE') {
        logger?.warn({ msg: 'upstream answer too large', district: districtId, maxBodyBytes, reason: err.message });
      }
      throw err;
    });
    return { ...res, elapsedMs: performance.now() - started };
  };
}
