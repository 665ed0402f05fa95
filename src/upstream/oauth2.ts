// OAuth 2.0 client credentials (RFC 6749 §4.4), the 1EdTech security framework's scheme for
// OneRoster 1.2. One token per district, shared by all requests: fetched once (single-flight),
// refreshed shortly before it expires, and replaced once when the server answers 401 anyway
// (tokens get revoked, clocks drift, some servers invalidate older tokens on each grant).
import type { AuthScheme, Send, TransportRequest, TransportResponse } from './http.js';
import { UpstreamError } from './types.js';

export interface OAuth2Options {
  districtId: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated; '' sends no scope parameter (some SIS servers reject any scope). */
  scope?: string;
  /** 'basic' (RFC 6749 §2.3.1, preferred) or 'body' (client_id/client_secret in the form). */
  clientAuth?: 'basic' | 'body';
  /** Clock in ms, injectable for expiry tests. */
  now?: () => number;
  /** Told once per refused token response (the composition root logs it); never sees the token. */
  onEvent?: (event: OAuth2Event) => void;
}

/** Something an operator should hear about; callers only see an UPSTREAM_AUTH_FAILED. */
export interface OAuth2Event {
  type: 'token_refused';
  districtId: string;
  /** Host-, secret- and token-free. */
  reason: string;
}

export interface OAuth2Scheme extends AuthScheme {
  /** Drops the cached token (e.g. after rotating credentials). */
  invalidate(): void;
  /**
   * The access tokens the endpoint answered lately (the current one last, refused ones too):
   * a district that quotes one in an error must have it redacted before a client reads it.
   */
  recentTokens(): readonly string[];
}

interface Token {
  value: string;
  refreshAt: number;
}

// Servers that omit expires_in (RFC 6749 §5.1 only RECOMMENDs it) get the common one-hour
// lifetime; if the token dies sooner, the 401 path replaces it.
const DEFAULT_EXPIRES_IN_S = 3600;
const MAX_EARLY_REFRESH_MS = 60_000;
const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
// A token goes out as `Authorization: Bearer <token>`: a CR, LF or other control character
// would make every request fail inside undici (or worse, split the header), and a cached one
// would break the district silently until it expired. RFC 6750's b64token is stricter than
// this; visible ASCII is what a header can carry, and what real issuers (JWTs included) send.
const USABLE_TOKEN = /^[\x21-\x7e]+$/;
const MAX_TOKEN_CHARS = 8 * 1024;

export function oauth2(options: OAuth2Options): OAuth2Scheme {
  const { districtId, clientId, clientSecret } = options;
  const scope = options.scope ?? '';
  const clientAuth = options.clientAuth ?? 'basic';
  const now = options.now ?? Date.now;
  const onEvent = options.onEvent;
  if (onEvent !== undefined && typeof onEvent !== 'function') throw new Error('oauth2: onEvent must be a function');
  if (!districtId) throw new Error('oauth2: districtId is required');
  if (!clientId) throw new Error('oauth2: clientId is required');
  if (!clientSecret) throw new Error('oauth2: clientSecret is required');
  if (clientAuth !== 'basic' && clientAuth !== 'body') throw new Error(`oauth2: clientAuth must be basic or body, got ${String(clientAuth)}`);
  let tokenUrl: URL;
  try {
    tokenUrl = new URL(options.tokenUrl);
  } catch {
    throw new Error('oauth2: tokenUrl must be an absolute http(s) URL');
  }
  if (tokenUrl.protocol !== 'http:' && tokenUrl.protocol !== 'https:') throw new Error('oauth2: tokenUrl must be an absolute http(s) URL');
  // The query is kept: Infinite Campus token URLs carry ?appName=...
  const tokenOrigin = tokenUrl.origin;
  const tokenPath = tokenUrl.pathname + tokenUrl.search;

  let token: Token | undefined;
  let inflight: Promise<string> | undefined;
  const recent: string[] = [];
  const remember = (value: string) => {
    if (recent.at(-1) === value) return;
    recent.push(value.slice(0, 8192));
    if (recent.length > 4) recent.shift();
  };

  const failed = (why: string) =>
    new UpstreamError('UPSTREAM_AUTH_FAILED', `could not obtain an OAuth2 token for district "${districtId}": ${why}`, districtId);

  function tokenRequest(): TransportRequest {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope !== '') form.set('scope', scope);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (clientAuth === 'basic') {
      // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64, so a ':' in the id
      // cannot split the pair.
      headers.authorization = `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
    } else {
      form.set('client_id', clientId);
      form.set('client_secret', clientSecret);
    }
    return { method: 'POST', origin: tokenOrigin, path: tokenPath, headers, body: form.toString(), maxBodyBytes: MAX_TOKEN_RESPONSE_BYTES };
  }

  async function fetchToken(next: Send): Promise<string> {
    const requestedAt = now();
    let res: TransportResponse;
    try {
      // No caller signal: the token is shared, so one caller giving up must not cancel it for the rest.
      res = await next(tokenRequest());
    } catch (err) {
      // Not reaching the token endpoint is the district's network failing, not its credentials
      // refused: it keeps its network code, so it is retried, counted by the breaker and
      // answered 502/504 like a data request that found nobody there.
      if (err instanceof UpstreamError && NETWORK_CODES.has(err.code)) throw tokenEndpointDown(err, districtId);
      throw failed(err instanceof UpstreamError ? `token endpoint failed (${err.code})` : 'token request failed');
    }
    const parsed = parseTokenResponse(res);
    if (typeof parsed === 'string') throw failed(parsed);
    if (parsed.accessToken) remember(parsed.accessToken);
    const unusable = unusableReason(parsed.accessToken);
    if (unusable) {
      // Not cached: the next request asks the endpoint again instead of reusing a dead token.
      onEvent?.({ type: 'token_refused', districtId, reason: unusable });
      throw failed(`the token endpoint answered an unusable access_token (${unusable})`);
    }
    const lifetimeMs = parsed.expiresIn * 1000;
    // Refresh at 90% of the lifetime but never more than a minute early; measured from when
    // the request was sent, so a slow token endpoint cannot make us hold a dead token.
    const refreshAt = requestedAt + lifetimeMs - Math.min(lifetimeMs * 0.1, MAX_EARLY_REFRESH_MS);
    token = { value: parsed.accessToken, refreshAt };
    return parsed.accessToken;
  }

  function getToken(next: Send): Promise<string> {
    if (token && now() < token.refreshAt) return Promise.resolve(token.value);
    // Single-flight: everyone who needs a token while one is being fetched shares that fetch.
    // A failure is not cached: the next caller starts a new fetch.
    inflight ??= fetchToken(next).finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  const scheme = (next: Send): Send =>
    async function oauth2Send(req) {
      const send = async (accessToken: string) =>
        next({ ...req, headers: { ...req.headers, authorization: `Bearer ${accessToken}` } });

      const first = await withSignal(getToken(next), req.signal, districtId);
      const res = await send(first);
      if (res.status !== 401) return res;
      // Drop the token only if nobody replaced it yet, so a burst of 401s causes one refresh.
      if (token?.value === first) token = undefined;
      const second = await withSignal(getToken(next), req.signal, districtId);
      // Retry once; a second 401 goes back to the caller as the answer.
      return send(second);
    };
  scheme.invalidate = () => {
    token = undefined;
  };
  scheme.recentTokens = () => recent;
  return scheme;
}

// What the transport says when the token endpoint could not be asked (or our own queue was full).
const NETWORK_CODES: ReadonlySet<string> = new Set(['UPSTREAM_UNREACHABLE', 'UPSTREAM_TIMEOUT', 'UPSTREAM_BUSY']);

/** The transport's failure, said of the token endpoint; the cause (ECONNREFUSED, ENOTFOUND) kept, never the host. */
function tokenEndpointDown(err: UpstreamError, districtId: string): UpstreamError {
  const cause = err.detail.cause ? ` (${err.detail.cause})` : '';
  const what = err.code === 'UPSTREAM_TIMEOUT' ? 'did not answer in time' : err.code === 'UPSTREAM_BUSY' ? 'could not be asked (busy)' : 'is unreachable';
  return new UpstreamError(err.code, `the OAuth2 token endpoint of district "${districtId}" ${what}${cause}`, districtId, undefined, { ...err.detail, stage: 'token' });
}

/** An error description (host- and secret-free) or the token. */
function parseTokenResponse(res: TransportResponse): { accessToken: string; expiresIn: number } | string {
  let json: unknown;
  try {
    json = JSON.parse(res.body.toString('utf8'));
  } catch {
    json = undefined;
  }
  const obj = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  if (res.status < 200 || res.status >= 300) {
    // RFC 6749 §5.2 error codes are short tokens like invalid_client: worth showing.
    const code = typeof obj?.error === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(obj.error) ? ` (${obj.error})` : '';
    return `token endpoint answered ${res.status}${code}`;
  }
  if (!obj) return `token endpoint answered ${res.status} but the body is not a JSON object`;
  if (typeof obj.access_token !== 'string') return 'token response has no access_token';
  const type = obj.token_type;
  // RFC 6749 §5.1 says token_type is case-insensitive; some servers omit it.
  if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'bearer')) {
    return `token_type ${typeof type === 'string' && /^[\w-]{1,32}$/.test(type) ? `"${type}" ` : ''}is not bearer`;
  }
  return { accessToken: obj.access_token, expiresIn: expiresInSeconds(obj.expires_in) };
}

/** Why the token cannot be sent in a header, or undefined; never quotes the token. */
function unusableReason(token: string): string | undefined {
  if (token === '') return 'empty';
  if (token.length > MAX_TOKEN_CHARS) return `longer than ${MAX_TOKEN_CHARS} characters`;
  if (!USABLE_TOKEN.test(token)) return 'characters other than visible ASCII';
  return undefined;
}

function expiresInSeconds(raw: unknown): number {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  // Missing, zero, negative or garbage: fall back to the default (see DEFAULT_EXPIRES_IN_S).
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : DEFAULT_EXPIRES_IN_S;
}

/** application/x-www-form-urlencoded for one value (RFC 6749 Appendix B). */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** Lets one caller stop waiting for a shared promise without cancelling it for others. */
function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, districtId: string): Promise<T> {
  if (!signal) return promise;
  const abortError = () => new UpstreamError('UPSTREAM_ABORTED', `request to district "${districtId}" was aborted by the caller`, districtId);
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
