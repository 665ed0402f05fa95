// One district's upstream call chain, composed once at start-up, in the order a request takes:
//
//   version probe -> breaker -> health -> retry -> [ClassLink: rotated bearer]     the district's half
//   -> metrics -> well-formed -> background cap -> limiter -> shared budget -> wire -> auth -> transport   the client's half
//
// Every step is an Interceptor (src/upstream/dispatch.ts) around a plain dispatch function.
// The client's half is the client: it owns the pool, the queue and the token, so closing,
// retiring and the credentials it obtained are its own, and nothing around it copies them.
// The district's half lives as long as the District: a ClassLink tenant whose bearer rotates
// keeps its breaker, health and probe while its client is replaced underneath.
//
// Everything here is per district: pools, token caches and queues are never shared, so one
// slow or broken SIS cannot starve another.
import type { DistrictConfig, UpstreamOptions } from '../config/schema.js';
import { attemptLog, type AttemptLogger } from './attempt-log.js';
import { districtAuth } from './auth-scheme.js';
import type { BackgroundCap } from './background-cap.js';
import { createBreaker, type BreakerState } from './breaker.js';
import { compose, type Interceptor } from './dispatch.js';
import { createHealth, type DistrictHealth } from './health.js';
import { createTransport, DEFAULT_MAX_BODY_BYTES } from './http.js';
import { clientLifecycle } from './lifecycle.js';
import { createLimiter, limited } from './limiter.js';
import { measured, type UpstreamMetricsHook } from './metrics.js';
import { retry } from './retry.js';
import { sharedBudget, type SharedBudgets } from './shared-budget.js';
import type { UpstreamClient } from './types.js';
import { createVersionProbe, type VersionProbe } from './version-probe.js';
import { onTheWire, parseBaseUrl, wellFormed } from './wire.js';

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
  /** Requests waiting for one of the district's concurrency slots in this process (metrics). */
  queued?(): number;
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
  /** Told of every request sent to the district, each retry attempt too. */
  metrics?: UpstreamMetricsHook;
  /** A debug line per attempt (LOG_LEVEL=debug); absent, nothing is logged per attempt. */
  attemptLogger?: AttemptLogger;
  /** The replica's cap on background requests across every district (sync.maxBackgroundConcurrency). */
  background?: BackgroundCap;
}

/** The client's half of the chain: what one set of credentials needs to reach the district. */
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
  const limiter = createLimiter({ districtId, maxConcurrency: opts.maxConcurrency, maxQueue: opts.maxQueue, queueTimeoutMs: opts.queueTimeoutMs });
  const auth = districtAuth(district.auth, districtId, deps.now, deps.logger);
  const target = { districtId, origin, basePath };

  const request = compose(
    [
      // Inside the retries: each attempt is counted, and timed on the wire (queue wait excluded).
      deps.metrics && measured(districtId, deps.metrics),
      deps.attemptLogger && attemptLog(districtId, deps.attemptLogger),
      // A request that cannot be sent fails before it waits for a slot or spends a rate token.
      wellFormed(target),
      // Before the district's own slot: a background request waiting for the replica's cap holds
      // no slot a client of its district could use.
      deps.background?.interceptor(districtId),
      // This replica's slots and queue, then every replica's (an attempt holds its slot only
      // while it runs, so a retry waiting out its backoff blocks nobody).
      limited(limiter),
      deps.shared && sharedBudget(districtId, opts, deps.shared),
    ],
    // On the wire: the auth scheme signs, or fetches a token and replaces it after a 401, around the transport.
    onTheWire(target, compose([auth.scheme], transport.send), deps.logger, opts.maxBodyBytes),
  );

  const lifecycle = clientLifecycle({ limiter, transport, queueTimeoutMs: opts.queueTimeoutMs, timeoutMs: opts.timeoutMs, lingerMs: deps.retireLingerMs });
  return { districtId, request, credentials: auth.credentials, close: lifecycle.close, retire: lifecycle.retire, queued: () => limiter.queued };
}

export interface DistrictChainOptions {
  /** The district's retry and breaker settings. */
  upstream: Pick<UpstreamOptions, 'retry' | 'breaker'>;
  /** `version: auto`: the version is asked of the district, and asked again after repeated 404s. */
  probeVersion: boolean;
  logger: { info(o: object): void; warn(o: object): void };
  /** Clock of the breaker, health and version probe (retry keeps the real one). */
  now?: () => number;
  /** Between the retries and the client: ClassLink's retry on a rotated bearer, once per attempt. */
  rotation?: Interceptor;
}

/** One district's whole chain, and the state of its steps that GET /districts and redaction read. */
export interface DistrictUpstream extends DistrictUpstreamClient {
  health(): DistrictHealth;
  breaker(): BreakerState;
  /** With `probeVersion` only. */
  readonly versionProbe?: VersionProbe;
}

/** The district's half of the chain, around its client; the lifecycle stays the client's. */
export function composeDistrictUpstream(client: DistrictUpstreamClient, options: DistrictChainOptions): DistrictUpstream {
  const { districtId } = client;
  const { logger } = options;
  const clock = options.now ? { now: options.now } : {};
  const probe = options.probeVersion ? createVersionProbe(districtId, { logger, ...clock }) : undefined;
  const breaker = createBreaker(districtId, options.upstream.breaker, { logger, ...clock });
  const health = createHealth(options.now);

  const request = compose(
    [
      // Outermost: it watches what callers get, and asks its own probes through the steps below.
      probe?.intercept,
      // Outside the retries, so a request that failed after all its attempts counts once.
      breaker.intercept,
      // Inside the breaker: GET /districts shows the failures that opened it, not the refusals that follow.
      health.intercept,
      // Retry sleeps in real time, so it keeps the real clock: `now` may be a test's frozen one.
      retry(districtId, options.upstream.retry),
      options.rotation,
    ],
    (req) => client.request(req),
  );

  // Handed out once, here: the steps above have no lifecycle of their own.
  return {
    districtId,
    request,
    close: () => client.close(),
    retire: () => client.retire(),
    credentials: () => client.credentials(),
    ...(client.queued && { queued: () => client.queued!() }),
    health: health.health,
    breaker: breaker.state,
    ...(probe && { versionProbe: probe.probe }),
  };
}
