// The upstream layer's public surface. Callers build one chain per district at start-up
// (src/upstream/chain.ts) and see only UpstreamClient; the schemes, transport, limiter and
// steps are exported for tests and for tools (e.g. a `token` CLI command) that need one
// piece on its own.
export {
  composeDistrictUpstream,
  createUpstreamClient,
  type DistrictChainOptions,
  type DistrictUpstream,
  type DistrictUpstreamClient,
  type UpstreamClientDeps,
} from './chain.js';
export { createBackgroundCap, type BackgroundCap, type BackgroundCapOptions } from './background-cap.js';
export { compose, intercept, type Dispatch, type Interceptor } from './dispatch.js';
export { bearer, type BearerOptions } from './bearer.js';
export { createTransport, DEFAULT_MAX_BODY_BYTES, type AuthScheme, type Send, type Transport, type TransportOptions, type TransportRequest, type TransportResponse } from './http.js';
export { createLimiter, limited, type Limiter, type LimiterOptions } from './limiter.js';
export { oauth1, type OAuth1Options, type OAuth1SignatureMethod } from './oauth1.js';
export { oauth2, type OAuth2Event, type OAuth2Options, type OAuth2Scheme } from './oauth2.js';
export { buildQueryString, encodeRfc3986, parseQueryString } from './rfc3986.js';
export * from './types.js';
export { retry, withRetry, retryAfterMs, type RetryDeps } from './retry.js';
export { createBreaker, withBreaker, type Breaker, type BreakerDeps, type BreakerState } from './breaker.js';
export { createHealth, withHealth, type DistrictHealth } from './health.js';
export { createVersionProbe, type VersionProbe, type VersionProbeState } from './version-probe.js';
export { measured, type UpstreamMetricsHook } from './metrics.js';
export { attemptLog, type AttemptLogger } from './attempt-log.js';
export { sharedBudget, type SharedBudgets } from './shared-budget.js';
