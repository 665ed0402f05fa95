// districts, their upstream auth and options, ClassLink discovery and the built-in sandboxes.
import { z } from 'zod';
import { rateSchema } from './schema-auth.js';
import { blockSize, collectionOverrides } from './schema-cache.js';
import { bool, districtId, httpUrl, int, nonEmpty } from './fields.js';
import { districtMirrorSchema } from './schema-mirror.js';

export const oauth1Schema = z.strictObject({
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
export const bearerSchema = z.strictObject({ type: z.literal('bearer'), token: nonEmpty() });

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
    .strictObject({ ttlSeconds: int(0).optional(), staleSeconds: int(0).optional(), blockSize: blockSize().optional(), collections: collectionOverrides() })
    .prefault({}),
  // Keep a whole copy of the district and answer its rostering reads from it (mirror section).
  mirror: districtMirrorSchema,
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
