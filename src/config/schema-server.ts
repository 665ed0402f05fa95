// server, admin and metrics: how the gateway listens and who may operate it.
import { z } from 'zod';
import { CONTENT_CODINGS } from '../core/http/accept-encoding.js';
import { bool, int, nonEmpty } from './fields.js';

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
  // Answers in gzip or br to clients that accept them (Accept-Encoding). Cached pages are
  // compressed once when stored; answers built per request only from minBytes up.
  compression: z
    .strictObject({
      enabled: bool().default(true),
      // Offered in this order when a client weights them alike.
      encodings: z
        .array(z.enum(CONTENT_CODINGS, { error: `must be ${CONTENT_CODINGS.join(' or ')}` }))
        .min(1, 'at least one encoding (or enabled: false)')
        .refine((list) => new Set(list).size === list.length, { message: 'lists an encoding twice' })
        .default(['br', 'gzip']),
      minBytes: int(0, 104_857_600).default(1024),
      // gzip level and brotli quality: 1 fastest, 9 smallest.
      level: int(1, 9).default(6),
    })
    .prefault({}),
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

export const adminSchema = z
  .strictObject({
    token: z.string().optional(),
    tokenSha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (sha256 of the token)')
      .transform((v) => v.toLowerCase())
      .optional(),
    // The demo's: with no token given (an empty one, e.g. `${GATEWAY_ADMIN_TOKEN:-}` unset),
    // `serve` makes a random one at start and prints it once. Only a config that says so.
    generateToken: bool().default(false),
    // A listener of its own for /metrics and /admin (e.g. only on a private interface); the
    // public listener then answers 404 for them. Absent: both are on server.port.
    listen: z
      .strictObject({
        host: nonEmpty().default('127.0.0.1'),
        port: int(0, 65535),
      })
      .optional(),
  })
  .superRefine((a, ctx) => {
    const given = a.generateToken && a.token === '' ? undefined : a.token;
    if (given !== undefined && given.length < 24) ctx.addIssue({ code: 'custom', path: ['token'], message: 'must be at least 24 characters' });
    if (given !== undefined && a.tokenSha256 !== undefined) ctx.addIssue({ code: 'custom', path: ['token'], message: 'exactly one of token or tokenSha256 is required' });
    if (given === undefined && a.tokenSha256 === undefined && !a.generateToken) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'exactly one of token or tokenSha256 is required (or generateToken: true)' });
    }
  })
  .transform(({ token, ...rest }): { token?: string; tokenSha256?: string; generateToken: boolean; listen?: { host: string; port: number } } => (token === '' || token === undefined ? rest : { ...rest, token }));

// ClassLink discovery (reference §6): every enabled, active tenant that granted the app
// access becomes district `classlink-{tenant_id}`, reached through the OneRoster proxy.

export const metricsSchema = z.strictObject({
  enabled: bool().default(true),
  auth: z.enum(['none', 'admin'], { error: 'must be none or admin' }).default('none'),
  // Latency histograms are per route and cache status; per district too only when asked:
  // 300 districts x routes x 19 samples a series made a 4.4 MB scrape (issue 18).
  perDistrictHistograms: bool().default(false),
});
