import { z } from 'zod';
import { BASE_COLLECTIONS } from '../core/oneroster/collections.js';
import { normalizeScope, SCOPES } from '../core/oneroster/scopes.js';

// Values substituted from ${VAR} arrive as strings; numbers and booleans written
// that way must still validate, so numeric and boolean fields accept their string form.
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v),
    z.number().int().min(min).max(max),
  );
const bool = () =>
  z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

const nonEmpty = () => z.string().trim().min(1, 'required');
const httpUrl = () =>
  z.string().refine((v) => /^(https?|sandbox):\/\/[^\s/]+/i.test(v) && URL.canParse(v), {
    message: 'must be an absolute http(s):// URL',
  });
const idPattern = /^[a-z0-9-]+$/;
const districtId = () => z.string().regex(idPattern, 'must match [a-z0-9-]+');

const scope = () =>
  z.string().transform((v, ctx) => {
    const s = normalizeScope(v);
    if (!s) {
      ctx.addIssue({ code: 'custom', message: `unknown scope; expected one of ${SCOPES.join(', ')}` });
      return z.NEVER;
    }
    return s;
  });

export const serverSchema = z.strictObject({
  port: int(0, 65535).default(8080),
  host: nonEmpty().default('0.0.0.0'),
  // Where clients reach the gateway; used for Link headers. Empty: the request's own host.
  publicUrl: z
    .string()
    .optional()
    .transform((v) => (v && v.trim() ? v.trim().replace(/\/+$/, '') : undefined))
    .refine((v) => v === undefined || (/^https?:\/\//i.test(v) && URL.canParse(v)), {
      message: 'must be an absolute http(s):// URL',
    }),
  // Bound on how long in-flight requests may take to finish at shutdown.
  shutdownGraceMs: int(0, 600_000).default(10_000),
  // At SIGTERM, /readyz answers 503 this long before the listener closes, so a load
  // balancer's health check sees it and stops sending (set it to the check's interval x threshold).
  drainDelayMs: int(0, 600_000).default(0),
  // Whether a load balancer in front sets X-Forwarded-For: the client address (failed-login
  // throttling, logs) is then the right-most address it appended, else the socket's peer.
  trustProxy: bool().default(false),
  // Requests beyond these are refused before any work (414, 400, 413).
  limits: z
    .strictObject({
      maxUrlBytes: int(256, 1_048_576).default(8192),
      maxQueryParams: int(1, 1000).default(50),
      maxQueryValueBytes: int(16, 1_048_576).default(4096),
      maxWriteBodyBytes: int(1024, 104_857_600).default(1_048_576),
      // POST /oauth/token takes no credentials before its body is read: a small bound.
      maxTokenBodyBytes: int(256, 1_048_576).default(8192),
      // Slow clients: the request line and headers, the whole request, and any pause inside a
      // body must each arrive within these (Node's headersTimeout and requestTimeout; 408 after).
      headersTimeoutMs: int(500, 600_000).default(5_000),
      requestTimeoutMs: int(1_000, 3_600_000).default(10_000),
      bodyIdleTimeoutMs: int(100, 600_000).default(5_000),
    })
    .superRefine((l, ctx) => {
      // Node refuses a headers timeout longer than the whole request's.
      if (l.headersTimeoutMs > l.requestTimeoutMs) {
        ctx.addIssue({ code: 'custom', path: ['headersTimeoutMs'], message: `must not exceed requestTimeoutMs (${l.requestTimeoutMs})` });
      }
    })
    .prefault({}),
});

// A token bucket: `requestsPerSecond` on average, `burst` at once.
const rateSchema = z.strictObject({
  requestsPerSecond: z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), z.number().positive().max(1_000_000)),
  burst: int(1, 1_000_000).optional(),
});

const clientSchema = z
  .strictObject({
    clientId: z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ ~ -'),
    clientSecret: z.string().min(12, 'must be at least 12 characters').optional(),
    clientSecretSha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (sha256 of the secret)')
      .transform((v) => v.toLowerCase())
      .optional(),
    districts: z.array(z.string().min(1)).min(1, 'must name at least one district, or "*"'),
    scopes: z.array(scope()).min(1, 'must grant at least one scope'),
    // Whether the client's Cache-Control: no-cache forces an upstream refresh. Off by
    // default: one careless client must not turn the cache off for a fragile district.
    allowNoCache: bool().default(false),
    // Requests this client may make, shared by every replica when cache.store is Redis.
    // A cache hit costs `hitCost` of a request (0: hits are free; the district is not touched).
    rateLimit: rateSchema
      .extend({ hitCost: z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), z.number().min(0).max(1)).default(0) })
      .optional(),
  })
  .superRefine((c, ctx) => {
    if (!c.clientSecret === !c.clientSecretSha256) {
      ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'exactly one of clientSecret or clientSecretSha256 is required' });
    }
  });

export const authSchema = z.strictObject({
  tokenSecret: z.string().min(32, 'must be at least 32 characters'),
  tokenTtlSeconds: int(60, 86_400).default(3600),
  clients: z.array(clientSchema).default([]),
  // Failed client authentication at /oauth/token: after this many failures within the window
  // from one address (perAddress), or for one client id from one address (perClient), further
  // attempts there get 429 + Retry-After; 5 x perClient for one id holds every failing address.
  failedAuth: z
    .strictObject({
      perClient: int(1, 1_000_000).default(10),
      perAddress: int(1, 1_000_000).default(30),
      windowSeconds: int(1, 86_400).default(60),
    })
    .prefault({}),
});

const freshnessSchema = z.strictObject({
  ttlSeconds: int(0).optional(),
  staleSeconds: int(0).optional(),
});
const collectionOverrides = () =>
  z
    .record(z.string(), freshnessSchema)
    .superRefine((rec, ctx) => {
      for (const k of Object.keys(rec)) {
        if (!(BASE_COLLECTIONS as readonly string[]).includes(k)) {
          ctx.addIssue({ code: 'custom', path: [k], message: `unknown collection; expected one of ${BASE_COLLECTIONS.join(', ')}` });
        }
      }
    })
    .default({});

export const cacheSchema = z.strictObject({
  store: z
    .string()
    .default('memory')
    .refine((v) => v === 'memory' || /^rediss?:\/\/[^\s]+$/.test(v), { message: 'must be "memory" or a redis:// URL' }),
  // Prefix of every Redis key, so several deployments can share one Redis.
  keyPrefix: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 : _ . -').default('orgw:'),
  ttlSeconds: int(0).default(300),
  staleSeconds: int(0).default(86_400),
  maxMemoryBytes: int(1_048_576).default(268_435_456),
  // A single object the district says does not exist is remembered this long (negative caching).
  negativeTtlSeconds: int(0).default(30),
  // Longest an in-process copy lives without re-checking the shared store: the safety net
  // for an invalidation message lost on the way to this replica.
  l1MaxAgeSeconds: int(1).default(10),
  // How long a replica waits for another replica's fetch of the same page before fetching itself.
  coalesceWaitMs: int(0, 600_000).default(10_000),
  collections: collectionOverrides(),
  deltaSync: z
    .strictObject({
      enabled: bool().default(true),
      intervalSeconds: int(5).default(300),
      // Watermark overlap: servers compare timestamps with different precision and boundaries.
      overlapSeconds: int(0).default(120),
      pageSize: int(1, 10_000).default(1000),
    })
    .prefault({}),
});

const oauth1Schema = z.strictObject({
  type: z.literal('oauth1'),
  consumerKey: nonEmpty(),
  consumerSecret: nonEmpty(),
  signatureMethod: z.enum(['HMAC-SHA256', 'HMAC-SHA1']).default('HMAC-SHA256'),
});
const oauth2Schema = z.strictObject({
  type: z.literal('oauth2'),
  tokenUrl: httpUrl(),
  clientId: nonEmpty(),
  clientSecret: nonEmpty(),
  // Space-separated, sent as is; empty sends no scope (some SIS servers reject any scope).
  scope: z.string().default(''),
  // RFC 6749 §2.3.1: HTTP Basic is preferred; some servers only read the form body.
  clientAuth: z.enum(['basic', 'body']).default('basic'),
});
const bearerSchema = z.strictObject({ type: z.literal('bearer'), token: nonEmpty() });

export const upstreamAuthSchema = z.discriminatedUnion('type', [oauth1Schema, oauth2Schema, bearerSchema], {
  error: 'type must be one of oauth1, oauth2, bearer',
});

export const upstreamOptionsSchema = z.strictObject({
  connectTimeoutMs: int(100, 600_000).default(5_000),
  timeoutMs: int(100, 3_600_000).default(60_000),
  // SIS servers fall over under parallel load: requests beyond this wait in a queue.
  maxConcurrency: int(1, 1_000).default(4),
  maxQueue: int(0, 100_000).default(1_000),
  // A request that waits longer than this for a slot is answered 503.
  queueTimeoutMs: int(0, 3_600_000).default(30_000),
  // Upper bound of upstream pages fetched to fill one client page.
  maxStitchPages: int(1, 10_000).default(100),
  // Largest answer read from the district (decoded), and largest page the gateway assembles
  // from several of its answers: beyond it the client gets 502, never an out-of-memory.
  maxBodyBytes: int(1024, 536_870_912).default(33_554_432),
  // Bytes of this district's answers being read at once (all its requests together); a
  // request that would pass it is refused with 503, so one district cannot fill the memory
  // every district shares. Default: twice maxBodyBytes.
  maxInFlightBytes: int(1024, 4_294_967_296).optional(),
  // The district's request budget, shared by every replica when cache.store is Redis
  // (maxConcurrency is then shared too). No block: no budget.
  rateLimit: rateSchema.optional(),
  // GETs only, on connection errors, 502/503/504 and 429, with exponential backoff and
  // full jitter; a Retry-After is honoured; nothing is retried past maxTotalMs.
  retry: z
    .strictObject({
      maxAttempts: int(1, 10).default(3),
      baseDelayMs: int(1, 60_000).default(200),
      maxDelayMs: int(1, 600_000).default(5_000),
      maxTotalMs: int(0, 3_600_000).default(15_000),
    })
    .prefault({}),
  // After `failureThreshold` failures in a row the district is left alone for openSeconds:
  // cached pages are served stale, others get 503 with Retry-After; then one probe request
  // decides whether it closes again.
  breaker: z
    .strictObject({
      enabled: bool().default(true),
      failureThreshold: int(1, 1000).default(5),
      openSeconds: int(1, 86_400).default(30),
    })
    .prefault({}),
}).superRefine((u, ctx) => {
  // Below one answer's cap, every large answer would be refused as "busy" for good.
  if (u.maxInFlightBytes !== undefined && u.maxInFlightBytes < u.maxBodyBytes) {
    ctx.addIssue({ code: 'custom', path: ['maxInFlightBytes'], message: `must be at least maxBodyBytes (${u.maxBodyBytes})` });
  }
});

export const districtSchema = z.strictObject({
  id: districtId(),
  name: z.string().optional(),
  // auto: asked of the district at its first request (1.2 path, then 1.1) and remembered.
  version: z.enum(['v1p1', 'v1p2', 'auto'], { error: 'must be v1p1, v1p2 or auto' }),
  baseUrl: httpUrl().transform((v) => v.replace(/\/+$/, '')),
  auth: upstreamAuthSchema,
  upstream: upstreamOptionsSchema.prefault({}),
  cache: z
    .strictObject({ ttlSeconds: int(0).optional(), staleSeconds: int(0).optional(), collections: collectionOverrides() })
    .prefault({}),
});

const sandboxAuthSchema = z.discriminatedUnion(
  'type',
  [
    oauth1Schema.omit({ signatureMethod: true }),
    z.strictObject({
      type: z.literal('oauth2'),
      clientId: nonEmpty(),
      clientSecret: nonEmpty(),
      tokenTtlSeconds: int(1).default(3600),
    }),
    bearerSchema,
  ],
  { error: 'type must be one of oauth1, oauth2, bearer' },
);

// An in-process OneRoster server with generated data, for demos and trials.
// Districts reach it with baseUrl sandbox://<id>/ims/oneroster.
export const sandboxSchema = z.strictObject({
  id: districtId(),
  version: z.enum(['v1p1', 'v1p2'], { error: 'must be v1p1 or v1p2' }),
  auth: sandboxAuthSchema,
  host: nonEmpty().default('127.0.0.1'),
  port: int(0, 65535).default(0),
  seed: int(0).default(1),
  users: int(10, 200_000).default(500),
  latencyMs: int(0, 60_000).default(0),
  maxPageSize: int(1).optional(),
});

export const adminSchema = z
  .strictObject({
    token: z.string().min(24, 'must be at least 24 characters').optional(),
    tokenSha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (sha256 of the token)')
      .transform((v) => v.toLowerCase())
      .optional(),
  })
  .superRefine((a, ctx) => {
    if (!a.token === !a.tokenSha256) ctx.addIssue({ code: 'custom', path: ['token'], message: 'exactly one of token or tokenSha256 is required' });
  });

// ClassLink discovery (reference §6): every enabled, active tenant that granted the app
// access becomes district `classlink-{tenant_id}`, reached through the OneRoster proxy.
export const classlinkSchema = z.strictObject({
  // GET {discoveryUrl} with the developer token lists the tenants.
  discoveryUrl: httpUrl().default('https://oneroster-proxy.classlink.io/applications'),
  token: nonEmpty(),
  proxyBaseUrl: httpUrl().transform((v) => v.replace(/\/+$/, '')).default('https://oneroster-proxy.classlink.io'),
  version: z.enum(['v1p1', 'v1p2', 'auto'], { error: 'must be v1p1, v1p2 or auto' }).default('v1p1'),
  // proxy: through ClassLink's OneRoster proxy; direct: to each district's own server,
  // OAuth 1.0a-signed with the credentials from /applications/{id}/server.
  mode: z.enum(['proxy', 'direct'], { error: 'must be proxy or direct' }).default('proxy'),
  refreshSeconds: int(10, 86_400).default(300),
  upstream: upstreamOptionsSchema.prefault({}),
  // Per tenant id: a name, the version, or `enabled: false` to leave a tenant out.
  tenants: z
    .record(
      z.string().regex(/^\d+$/, 'tenant ids are numbers'),
      z.strictObject({
        name: z.string().optional(),
        version: z.enum(['v1p1', 'v1p2', 'auto'], { error: 'must be v1p1, v1p2 or auto' }).optional(),
        mode: z.enum(['proxy', 'direct']).optional(),
        enabled: bool().default(true),
      }),
    )
    .default({}),
});

export const CLASSLINK_PREFIX = 'classlink-';

// Prometheus text at GET /metrics: open (scraped inside the network), or behind the admin token.
export const metricsSchema = z.strictObject({
  enabled: bool().default(true),
  auth: z.enum(['none', 'admin'], { error: 'must be none or admin' }).default('none'),
});

export const configSchema = z
  .strictObject({
    server: serverSchema.prefault({}),
    auth: authSchema,
    // The operators' credential for /admin (cache purge, sync now). No block: no admin API.
    admin: adminSchema.optional(),
    cache: cacheSchema.prefault({}),
    districts: z.array(districtSchema).default([]),
    classlink: classlinkSchema.optional(),
    metrics: metricsSchema.prefault({}),
    sandboxes: z.array(sandboxSchema).default([]),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.metrics.enabled && cfg.metrics.auth === 'admin' && !cfg.admin) {
      ctx.addIssue({ code: 'custom', path: ['metrics', 'auth'], message: 'admin needs an admin block (admin.token or admin.tokenSha256)' });
    }
    const ids = new Set<string>();
    cfg.districts.forEach((d, i) => {
      if (cfg.classlink && d.id.startsWith(CLASSLINK_PREFIX)) {
        ctx.addIssue({ code: 'custom', path: ['districts', i, 'id'], message: `ids starting "${CLASSLINK_PREFIX}" are for ClassLink tenants` });
      }
      if (ids.has(d.id)) ctx.addIssue({ code: 'custom', path: ['districts', i, 'id'], message: `duplicate district id "${d.id}"` });
      ids.add(d.id);
    });
    const sandboxIds = new Set(cfg.sandboxes.map((s) => s.id));
    cfg.districts.forEach((d, i) => {
      const urls: Array<[string, string]> = [['baseUrl', d.baseUrl]];
      if (d.auth.type === 'oauth2') urls.push(['auth.tokenUrl', d.auth.tokenUrl]);
      for (const [field, url] of urls) {
        const m = /^sandbox:\/\/([^/]+)/i.exec(url);
        if (m && !sandboxIds.has(m[1]!)) {
          ctx.addIssue({ code: 'custom', path: ['districts', i, ...field.split('.')], message: `no sandbox with id "${m[1]}"` });
        }
      }
    });
    const clientIds = new Set<string>();
    cfg.auth.clients.forEach((c, i) => {
      if (clientIds.has(c.clientId)) ctx.addIssue({ code: 'custom', path: ['auth', 'clients', i, 'clientId'], message: `duplicate clientId "${c.clientId}"` });
      clientIds.add(c.clientId);
      c.districts.forEach((d, j) => {
        if (d.includes('*')) {
          if (!/^[a-z0-9-]*\*$/.test(d)) ctx.addIssue({ code: 'custom', path: ['auth', 'clients', i, 'districts', j], message: 'a pattern is "*" or a prefix ending in "*", e.g. "classlink-*"' });
          return;
        }
        // Discovered districts are not known yet at start-up.
        if (cfg.classlink && d.startsWith(CLASSLINK_PREFIX)) return;
        if (!ids.has(d)) {
          ctx.addIssue({ code: 'custom', path: ['auth', 'clients', i, 'districts', j], message: `unknown district "${d}"` });
        }
      });
    });
  });

export type GatewayConfig = z.infer<typeof configSchema>;
export type DistrictConfig = z.infer<typeof districtSchema>;
export type UpstreamAuthConfig = z.infer<typeof upstreamAuthSchema>;
export type UpstreamOptions = z.infer<typeof upstreamOptionsSchema>;
export type ClientConfig = z.infer<typeof clientSchema>;
export type SandboxConfig = z.infer<typeof sandboxSchema>;
export type CacheConfig = z.infer<typeof cacheSchema>;
export type AdminConfig = z.infer<typeof adminSchema>;
export type ClassLinkConfig = z.infer<typeof classlinkSchema>;
export type RateConfig = z.infer<typeof rateSchema>;
export type RetryConfig = UpstreamOptions['retry'];
export type BreakerConfig = UpstreamOptions['breaker'];
