// One district's upstream client, composed once at start-up in the order a request takes:
//   limiter (wait for a slot) -> auth scheme (sign / token / retry) -> transport (pool, deadline).
// Everything here is per district: pools, token caches and queues are never shared, so one
// slow or broken SIS cannot starve another.
import { performance } from 'node:perf_hooks';
import type { DistrictConfig, UpstreamAuthConfig } from '../config/schema.js';
import { bearer } from './bearer.js';
import { createTransport, DEFAULT_MAX_BODY_BYTES, type AuthScheme, type TransportRequest } from './http.js';
import { createLimiter } from './limiter.js';
import { oauth1 } from './oauth1.js';
import { oauth2, type OAuth2Event, type OAuth2Scheme } from './oauth2.js';
import { buildQueryString } from './rfc3986.js';
import { UpstreamError, type UpstreamClient, type UpstreamRequest, type UpstreamResponse } from './types.js';

/** A district's own client: `close` cuts at once (shutdown); `retire` lets its requests finish first. */
export interface DistrictUpstreamClient extends UpstreamClient {
  /**
   * For a district replaced while serving (config reload, rotated ClassLink bearer): the
   * requests in flight and queued finish, then the client closes once it has stayed idle
   * for a moment (a stitched page's next call follows its first), or after a bound.
   */
  retire(): Promise<void>;
  /** Credentials this client obtained at run time (OAuth2 access tokens), for redaction; never logged. */
  credentials(): readonly string[];
}

export interface UpstreamClientDeps {
  /** Wall clock in ms for token expiry and OAuth1 timestamps; defaults to Date.now. */
  now?: () => number;
  /** Overrides `district.upstream.maxBodyBytes` (tests); the district's setting otherwise. */
  maxBodyBytes?: number;
  /**
   * Where the client reports what an operator must hear about but no caller sees in full,
   * e.g. an OAuth2 token endpoint answering an unusable token. The gateway passes its logger.
   */
  logger?: { warn(o: object): void };
  /** How long a retired client must stay idle before it closes; defaults to 2 s. */
  retireLingerMs?: number;
  /**
   * Budgets shared by every replica (Redis): the district's request rate
   * (`upstream.rateLimit`), and its `maxConcurrency` counted across replicas.
   */
  shared?: SharedBudgets;
}

/** The slice of src/limits the client needs (the composition root passes the real one). */
export interface SharedBudgets {
  /** False when the store is this process only: the local limiter is then the whole story. */
  readonly crossReplica: boolean;
  take(key: string, cost: number, rate: { requestsPerSecond: number; burst?: number }): Promise<{ ok: boolean; retryAfterMs: number }>;
  acquire(key: string, limit: number, opts: { timeoutMs: number; leaseMs: number; signal?: AbortSignal }): Promise<(() => void) | undefined>;
}

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

export function createUpstreamClient(district: DistrictConfig, deps: UpstreamClientDeps = {}): DistrictUpstreamClient {
  const districtId = district.id;
  if (!districtId) throw new Error('upstream client: district.id is required');
  const { origin, basePath } = parseBaseUrl(district.baseUrl, districtId);
  const opts = district.upstream;
  if (!opts) throw new Error(`upstream client for district "${districtId}": upstream options are required`);

  const maxBodyBytes = deps.maxBodyBytes ?? opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const transport = createTransport({
    districtId,
    connectTimeoutMs: opts.connectTimeoutMs,
    timeoutMs: opts.timeoutMs,
    maxBodyBytes,
    maxInFlightBytes: opts.maxInFlightBytes ?? 2 * maxBodyBytes,
  });
  const limiter = createLimiter({
    districtId,
    maxConcurrency: opts.maxConcurrency,
    maxQueue: opts.maxQueue,
    queueTimeoutMs: opts.queueTimeoutMs,
  });
  const onEvent = deps.logger ? logEvent(deps.logger) : undefined;
  const scheme = authScheme(district.auth, districtId, deps.now, onEvent);
  const send = scheme(transport.send);
  const credentials = 'recentTokens' in scheme ? () => (scheme as OAuth2Scheme).recentTokens() : () => [];

  const shared = deps.shared;
  const busy = (why: string) => new UpstreamError('UPSTREAM_BUSY', `district "${districtId}" is busy: ${why}`, districtId);
  /** The district's shared slot and request token, waited for within queueTimeoutMs. */
  async function budgeted<T>(fn: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!shared) return fn();
    const deadline = performance.now() + opts.queueTimeoutMs;
    const release = shared.crossReplica
      ? await shared
          .acquire(`upstream:${districtId}`, opts.maxConcurrency, {
            timeoutMs: opts.queueTimeoutMs,
            leaseMs: opts.timeoutMs + 5_000,
            ...(signal ? { signal } : {}),
          })
          .catch((err: unknown) => {
            if (signal?.aborted) throw new UpstreamError('UPSTREAM_ABORTED', 'aborted', districtId);
            throw err;
          })
      : () => undefined;
    if (!release) throw busy('every replica-wide slot is taken');
    try {
      if (opts.rateLimit) {
        for (;;) {
          const taken = await shared.take(`upstream:${districtId}`, 1, opts.rateLimit);
          if (taken.ok) break;
          if (performance.now() + taken.retryAfterMs > deadline) throw busy('its request rate budget is spent');
          await new Promise((r) => setTimeout(r, taken.retryAfterMs));
          if (signal?.aborted) throw new UpstreamError('UPSTREAM_ABORTED', 'aborted', districtId);
        }
      }
      return await fn();
    } finally {
      release();
    }
  }

  async function request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const outgoing = toTransportRequest(req, origin, basePath);
    return limiter.run(
      () =>
        budgeted(async () => {
          // Measured inside the slot: queue wait is ours, not the upstream's.
          const started = performance.now();
          const res = await send(outgoing).catch((err: unknown) => {
            // The operator needs to know which district sends what the gateway refuses to hold.
            if (err instanceof UpstreamError && err.code === 'UPSTREAM_TOO_LARGE') {
              deps.logger?.warn({ msg: 'upstream answer too large', district: districtId, maxBodyBytes: opts.maxBodyBytes, reason: err.message });
            }
            throw err;
          });
          return { ...res, elapsedMs: performance.now() - started };
        }, req.signal),
      req.signal,
    );
  }

  let closing: Promise<void> | undefined;
  async function close() {
    limiter.close();
    await transport.close();
  }
  const lingerMs = deps.retireLingerMs ?? 2_000;
  // Beyond this, whatever still runs would have timed out anyway.
  const retireBoundMs = Math.min(opts.queueTimeoutMs + 2 * opts.timeoutMs + lingerMs, 15 * 60_000);

  return {
    districtId,
    request,
    credentials,
    close: () => (closing ??= close()),
    retire() {
      closing ??= (async () => {
        const until = performance.now() + retireBoundMs;
        let idleSince: number | undefined;
        while (performance.now() < until) {
          const t = performance.now();
          if (limiter.active > 0 || limiter.queued > 0) idleSince = undefined;
          else if ((idleSince ??= t) + lingerMs <= t) break;
          await new Promise((r) => setTimeout(r, Math.min(100, lingerMs)).unref());
        }
        await close();
      })();
      return closing;
    },
  };
}

/** One log line per event: the scheme reports each refusal once, however many callers waited on it. */
function logEvent(logger: { warn(o: object): void }): (e: OAuth2Event) => void {
  return (e) => logger.warn({ msg: 'upstream token refused', district: e.districtId, reason: e.reason });
}

function authScheme(auth: UpstreamAuthConfig, districtId: string, now: (() => number) | undefined, onEvent: ((e: OAuth2Event) => void) | undefined): AuthScheme {
  const withNow = now ? { now } : {};
  switch (auth?.type) {
    case 'oauth1':
      return oauth1({ consumerKey: auth.consumerKey, consumerSecret: auth.consumerSecret, signatureMethod: auth.signatureMethod, ...withNow });
    case 'oauth2':
      return oauth2({
        districtId,
        tokenUrl: auth.tokenUrl,
        clientId: auth.clientId,
        clientSecret: auth.clientSecret,
        scope: auth.scope,
        clientAuth: auth.clientAuth,
        ...withNow,
        ...(onEvent && { onEvent }),
      });
    case 'bearer':
      return bearer({ token: auth.token });
    default:
      throw new Error(`upstream client for district "${districtId}": auth.type must be oauth1, oauth2 or bearer`);
  }
}

function parseBaseUrl(baseUrl: string, districtId: string): { origin: string; basePath: string } {
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
  const headers: Record<string, string> = { accept: 'application/json' };
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
