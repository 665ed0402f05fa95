// auth: the gateway's own clients and tokens.
import { z } from 'zod';
import { bool, int, scope } from './fields.js';

export const rateSchema = z.strictObject({
  requestsPerSecond: z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), z.number().positive().max(1_000_000)),
  burst: int(1, 1_000_000).optional(),
});

export const clientSchema = z
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
