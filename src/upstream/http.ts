// The transport: one keep-alive undici Agent per district, one total deadline per request,
// the body read into a Buffer, and every failure turned into an UpstreamError whose message
// names only the district. undici's own messages often carry the host and port, and a
// logged error must not tell anyone where a district's SIS lives, so they are never copied.
import { Agent, errors as undiciErrors } from 'undici';
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
  /** Overrides the transport's maxBodyBytes for this request (token responses are small). */
  maxBodyBytes?: number;
}

export interface TransportResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
}

export type Send = (req: TransportRequest) => Promise<TransportResponse>;

/** An auth scheme wraps the next Send (undici-style composition): it may set headers, re-sign or retry. */
export type AuthScheme = (next: Send) => Send;

export interface TransportOptions {
  districtId: string;
  connectTimeoutMs: number;
  /** Deadline for the whole exchange: connect, headers and body. */
  timeoutMs: number;
  /** Responses larger than this fail with UPSTREAM_UNREACHABLE instead of filling memory. */
  maxBodyBytes?: number;
}

export interface Transport {
  send: Send;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 512 * 1024 * 1024;

// Abort reasons, kept so the catch block knows who aborted (undici rejects with
// signal.reason). Their messages are generic: they never reach callers anyway.
class TimedOut extends Error {}
class CallerAborted extends Error {}

export function createTransport(options: TransportOptions): Transport {
  const { districtId, connectTimeoutMs, timeoutMs } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!districtId) throw new Error('transport: districtId is required');
  requirePositiveInt('connectTimeoutMs', connectTimeoutMs);
  requirePositiveInt('timeoutMs', timeoutMs);
  requirePositiveInt('maxBodyBytes', maxBodyBytes);

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
      const limit = req.maxBodyBytes ?? maxBodyBytes;
      const body = await readBody(res.body, limit, districtId);
      return { status: res.statusCode, headers: flattenHeaders(res.headers), body };
    } catch (err) {
      throw toUpstreamError(err, controller.signal.reason, districtId, timeoutMs);
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  return {
    send,
    async close() {
      closed = true;
      // destroy, not close: in-flight requests are cut rather than awaited at shutdown.
      await agent.destroy().catch(() => {});
    },
  };
}

async function readBody(body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown }, limit: number, districtId: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new UpstreamError('UPSTREAM_UNREACHABLE', `response from district "${districtId}" exceeds ${limit} bytes`, districtId);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
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
    return timeout(districtId, code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect timed out' : `timed out (${code})`);
  }
  // Everything else (ECONNREFUSED, ECONNRESET, ENOTFOUND, TLS, UND_ERR_SOCKET, HTTP parse
  // errors) means no usable response. Only the code is kept: it is useful and host-free.
  const suffix = code !== undefined ? ` (${code})` : '';
  return new UpstreamError('UPSTREAM_UNREACHABLE', `upstream for district "${districtId}" is unreachable${suffix}`, districtId);
}

function timeout(districtId: string, detail: string): UpstreamError {
  return new UpstreamError('UPSTREAM_TIMEOUT', `upstream for district "${districtId}": ${detail}`, districtId);
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
