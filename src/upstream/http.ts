// The transport: one keep-alive undici Agent per district, one total deadline per request,
// the body read into a Buffer, and every failure turned into an UpstreamError whose message
// names only the district. undici's own messages often carry the host and port, and a
// logged error must not tell anyone where a district's SIS lives, so they are never copied.
//
// Memory is the one resource every district shares, so the transport bounds what a district
// can make it hold: each answer is cut at maxBodyBytes (UPSTREAM_TOO_LARGE), and the bytes of
// the district's answers being read at once at maxInFlightBytes (UPSTREAM_BUSY). Without
// both, one SIS answering a 600 MB page, or many 30 MB pages at once, takes every district
// down with the process.
import { Agent, errors as undiciErrors } from 'undici';
import { codingsOf, decoded } from './content-decoding.js';
import { createByteBudget } from './byte-budget.js';
import { declaredLength, drop, readBody } from './read-body.js';
import type { Dispatch, Interceptor } from './dispatch.js';
import { UpstreamError, type UpstreamMethod } from './types.js';

/** A request as it goes on the wire; `path` is the encoded request-target, query included. */
export interface TransportRequest {
  method: UpstreamMethod;
  /** scheme://host[:port], no path. */
  origin: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  signal?: AbortSignal;
  /** Lowers the transport's maxBodyBytes for this request (token responses are small); never raises it. */
  maxBodyBytes?: number;
}

export interface TransportResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
  /**
   * Bytes past `body`'s end in its ArrayBuffer that belong to this answer alone: the body may
   * grow there in place (its hrefs re-rooted at a longer root) instead of being copied.
   */
  room?: number;
}

/** A call on the wire: the transport, or the transport behind an auth scheme. */
export type Send = Dispatch<TransportRequest, TransportResponse>;

/** An auth scheme is an interceptor on the wire: it may set headers, re-sign or retry. */
export type AuthScheme = Interceptor<TransportRequest, TransportResponse>;

export interface TransportOptions {
  districtId: string;
  connectTimeoutMs: number;
  /** Deadline for the whole exchange: connect, headers and body. */
  timeoutMs: number;
  /** Larger answers fail with UPSTREAM_TOO_LARGE instead of filling memory; default 32 MiB. */
  maxBodyBytes?: number;
  /**
   * Bytes of answers being read at once, all requests together; a request whose reading would
   * pass it is cut with UPSTREAM_BUSY. Default: twice maxBodyBytes (one full answer always fits).
   */
  maxInFlightBytes?: number;
}

export interface Transport {
  send: Send;
  /** Bytes currently counted against maxInFlightBytes (for tests and metrics). */
  readonly inFlightBytes: number;
  close(): Promise<void>;
}

// The config default (districts[].upstream.maxBodyBytes): a full OneRoster page of 10,000
// users is about 10 MB, so 32 MiB leaves room and still keeps the worst case small.
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

// Abort reasons, kept so the catch block knows who aborted (undici rejects with
// signal.reason). Their messages are generic: they never reach callers anyway.
class TimedOut extends Error {}
class CallerAborted extends Error {}

export function createTransport(options: TransportOptions): Transport {
  const { districtId, connectTimeoutMs, timeoutMs } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxInFlightBytes = options.maxInFlightBytes ?? 2 * maxBodyBytes;
  if (!districtId) throw new Error('transport: districtId is required');
  requirePositiveInt('connectTimeoutMs', connectTimeoutMs);
  requirePositiveInt('timeoutMs', timeoutMs);
  requirePositiveInt('maxBodyBytes', maxBodyBytes);
  requirePositiveInt('maxInFlightBytes', maxInFlightBytes);
  const budget = createByteBudget(maxInFlightBytes);

  // An Agent rather than a Pool: an OAuth2 token URL may live on another origin, and it
  // must share the district's connect timeout and keep-alive sockets. undici's default
  // keep-alive (4 s idle) stays under Node's 5 s server default, avoiding reuse races.
  // headers/bodyTimeout are idle timers kept as a backstop; the total deadline below rules.
  // The request API follows no redirects: a 3xx is returned to the caller as is.
  const agent = new Agent({
    connect: { timeout: connectTimeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  let closed = false;

  async function send(req: TransportRequest): Promise<TransportResponse> {
    if (closed) throw new UpstreamError('UPSTREAM_UNREACHABLE', `upstream client for district "${districtId}" is closed`, districtId);
    if (req.signal?.aborted) throw aborted(districtId);

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TimedOut('timed out')), timeoutMs);
    const onCallerAbort = () => controller.abort(new CallerAborted('aborted'));
    req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      const res = await agent.request({
        origin: req.origin,
        path: req.path,
        method: req.method,
        headers: req.headers,
        body: req.body ?? null,
        signal: controller.signal,
      });
      const limit = Math.min(req.maxBodyBytes ?? maxBodyBytes, maxBodyBytes);
      const headers = flattenHeaders(res.headers);
      const codings = codingsOf(headers['content-encoding']);
      if (codings === undefined) {
        drop(res.body);
        throw badEncoding(districtId, 'in a content coding the gateway does not decode');
      }
      if (codings.length === 0) {
        const { body, room } = await readBody(res.body, declaredLength(headers['content-length']), limit, budget, districtId);
        return { status: res.statusCode, headers, body, ...(room > 0 ? { room } : {}) };
      }
      // The caps count decoded bytes; Content-Length counted the coded ones.
      const { body } = await readBody(decoded(res.body, codings), undefined, limit, budget, districtId).catch((err: unknown) => {
        drop(res.body);
        // Only the decoder's own errors are the body's fault; a timeout, an abort or a reset
        // while reading stays what it is (toUpstreamError below).
        throw isDecoderError(err) ? badEncoding(districtId, 'with a body that does not decode') : err;
      });
      delete headers['content-encoding'];
      delete headers['content-length'];
      return { status: res.statusCode, headers, body };
    } catch (err) {
      throw toUpstreamError(err, controller.signal.reason, districtId, timeoutMs);
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  return {
    send,
    get inFlightBytes() {
      return budget.used;
    },
    async close() {
      closed = true;
      // destroy, not close: in-flight requests are cut rather than awaited at shutdown.
      await agent.destroy().catch(() => {});
    },
  };
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const joined = Array.isArray(value) ? value.join(', ') : value;
    out[key] = out[key] === undefined ? joined : `${out[key]}, ${joined}`;
  }
  return out;
}

// Socket-level error codes that mean "could not reach or keep talking to the server".
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function toUpstreamError(err: unknown, reason: unknown, districtId: string, timeoutMs: number): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (reason instanceof CallerAborted) return aborted(districtId);
  if (reason instanceof TimedOut) return timeout(districtId, `no complete response within ${timeoutMs} ms`);
  const code = errorCode(err);
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return timeout(districtId, code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect timed out' : `timed out (${code})`, code);
  }
  // Everything else (ECONNREFUSED, ECONNRESET, ENOTFOUND, TLS, UND_ERR_SOCKET, HTTP parse
  // errors) means no usable response. Only the code is kept: it is useful and host-free.
  const suffix = code !== undefined ? ` (${code})` : '';
  return new UpstreamError('UPSTREAM_UNREACHABLE', `upstream for district "${districtId}" is unreachable${suffix}`, districtId, undefined, code !== undefined ? { cause: code } : {});
}

/** zlib's and brotli's errors (Z_DATA_ERROR, ERR_BROTLI_DECOMPRESSION_FAILED, ...). */
function isDecoderError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^(?:Z_|ERR__|ERR_BROTLI|ERR_ZLIB)/.test(code);
}

function badEncoding(districtId: string, detail: string): UpstreamError {
  return new UpstreamError('UPSTREAM_BAD_ENCODING', `district "${districtId}" answered ${detail}`, districtId);
}

function timeout(districtId: string, detail: string, cause?: string): UpstreamError {
  return new UpstreamError('UPSTREAM_TIMEOUT', `upstream for district "${districtId}": ${detail}`, districtId, undefined, cause !== undefined ? { cause } : {});
}

function aborted(districtId: string): UpstreamError {
  return new UpstreamError('UPSTREAM_ABORTED', `request to district "${districtId}" was aborted by the caller`, districtId);
}

/** The error's code if it looks like one (e.g. ECONNREFUSED, UND_ERR_SOCKET, ERR_TLS_CERT_ALTNAME_INVALID). */
function errorCode(err: unknown): string | undefined {
  if (err instanceof undiciErrors.UndiciError && typeof err.code === 'string') return safeCode(err.code);
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return safeCode(err.code);
  return undefined;
}

function safeCode(code: string): string | undefined {
  return /^[A-Z][A-Z0-9_]{1,63}$/.test(code) ? code : undefined;
}

function requirePositiveInt(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`transport: ${field} must be a positive integer, got ${String(value)}`);
}
