// The upstream layer's public surface. Callers build one client per district at start-up
// and see only UpstreamClient; the schemes, transport and limiter are exported for tests
// and for tools (e.g. a `token` CLI command) that need one piece on its own.
export { createUpstreamClient, type DistrictUpstreamClient, type UpstreamClientDeps } from './client.js';
export { bearer, type BearerOptions } from './bearer.js';
export { createTransport, DEFAULT_MAX_BODY_BYTES, type AuthScheme, type Send, type Transport, type TransportOptions, type TransportRequest, type TransportResponse } from './http.js';
export { createLimiter, type Limiter, type LimiterOptions } from './limiter.js';
export { oauth1, type OAuth1Options, type OAuth1SignatureMethod } from './oauth1.js';
export { oauth2, type OAuth2Event, type OAuth2Options, type OAuth2Scheme } from './oauth2.js';
export { buildQueryString, encodeRfc3986, parseQueryString } from './rfc3986.js';
export * from './types.js';
export { withRetry, retryAfterMs, type RetryDeps } from './retry.js';
export { withBreaker, type BreakerDeps, type BreakerState } from './breaker.js';
