// The seam between the gateway and one district's OneRoster server. Callers (the service
// layer, later the cache) see only this; auth schemes, pools and limits live behind it.

export type UpstreamMethod = 'GET' | 'PUT' | 'POST' | 'DELETE';

export interface UpstreamRequest {
  method: UpstreamMethod;
  /** Path below the district's baseUrl, starting with '/', e.g. '/v1p1/users' or '/rostering/v1p2/users/u1'. Already encoded. */
  path: string;
  /** Decoded query parameters in order; the client encodes them (RFC 3986) and signs exactly what it sends. */
  query: ReadonlyArray<readonly [string, string]>;
  /** JSON body for writes. */
  body?: string;
  /** Extra headers to send (e.g. x-request-id). Never Authorization: the client sets it. */
  headers?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
  /** `background`: waits behind every client request for a slot of the district's concurrency (a mirror's pull). */
  priority?: 'background';
  /** Set by the retries on a repeated attempt (2, 3, ...): why the one before was repeated. For the debug log. */
  attempt?: { number: number; retryReason: RetryReason };
}

/** Why an attempt was repeated: the district said 429, a 502/503/504, or no answer came (refused, reset). */
export type RetryReason = '429' | '5xx' | 'network';

export interface UpstreamResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Buffer;
  /** Bytes past `body`'s end that belong to it alone (TransportResponse.room). */
  room?: number;
  /** Milliseconds spent on the upstream call, queue wait excluded. */
  elapsedMs: number;
}

export interface UpstreamClient {
  readonly districtId: string;
  request(req: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

export type UpstreamErrorCode =
  | 'UPSTREAM_TIMEOUT' // connect or total timeout
  | 'UPSTREAM_UNREACHABLE' // refused, reset, DNS, TLS
  | 'UPSTREAM_BUSY' // local queue full or queue wait timed out
  | 'UPSTREAM_AUTH_FAILED' // could not obtain an OAuth2 token
  | 'UPSTREAM_ABORTED' // caller aborted
  | 'UPSTREAM_CIRCUIT_OPEN' // the district's breaker is open; nothing was sent
  | 'UPSTREAM_TOO_LARGE' // the answer passed districts[].upstream.maxBodyBytes (decoded)
  | 'UPSTREAM_BAD_ENCODING'; // a Content-Encoding the gateway cannot decode, or a body that does not decode

/** What an UpstreamError knows beyond its code; every field host- and secret-free. */
export interface UpstreamErrorDetail {
  /** The socket's or undici's own code (ECONNREFUSED, ENOTFOUND, UND_ERR_CONNECT_TIMEOUT): what an operator acts on. */
  cause?: string;
  /** `token`: the district's OAuth2 token endpoint failed, before any data request was sent. */
  stage?: 'token';
}

/** Failure before a usable HTTP response arrived. Messages never hold URLs or credentials. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly detail: UpstreamErrorDetail;
  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
    readonly districtId: string,
    /** For UPSTREAM_CIRCUIT_OPEN: when the district may be asked again. */
    readonly retryAfterMs?: number,
    detail: UpstreamErrorDetail = {},
  ) {
    super(message);
    this.detail = detail;
  }
}
