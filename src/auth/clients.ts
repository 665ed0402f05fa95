import { createHash, timingSafeEqual } from 'node:crypto';
import { parseScopeParam, type Scope } from '../core/oneroster/scopes.js';

export interface GatewayClient {
  clientId: string;
  districts: readonly string[];
  scopes: readonly Scope[];
  /** May force an upstream refresh with Cache-Control: no-cache. */
  allowNoCache: boolean;
  /** Requests per second (token bucket); a cache hit costs `hitCost` of a request. */
  rateLimit?: ClientRateLimit;
}

export interface ClientRateLimit {
  requestsPerSecond: number;
  burst?: number;
  hitCost: number;
}

export interface ClientDefinition extends Omit<GatewayClient, 'allowNoCache' | 'rateLimit'> {
  allowNoCache?: boolean;
  rateLimit?: ClientRateLimit | undefined;
  clientSecret?: string;
  clientSecretSha256?: string;
}

export interface ClientRegistry {
  get(clientId: string): GatewayClient | undefined;
  /** The client when one of the candidate secrets matches; compared in constant time. */
  authenticate(clientId: string, secretCandidates: readonly string[]): GatewayClient | undefined;
  canSeeDistrict(client: GatewayClient, districtId: string): boolean;
}

/** `*`, an exact id, or a prefix pattern such as `classlink-*` (discovered districts). */
export function districtMatches(pattern: string, districtId: string): boolean {
  if (pattern === '*' || pattern === districtId) return true;
  return pattern.endsWith('*') && districtId.startsWith(pattern.slice(0, -1));
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

// Comparing fixed-length digests keeps the time independent of the secret's length and content.
const DUMMY = Buffer.from(sha256Hex('no such client'), 'hex');

export function createClientRegistry(definitions: readonly ClientDefinition[]): ClientRegistry {
  const byId = new Map<string, { client: GatewayClient; digest: Buffer }>();
  for (const d of definitions) {
    const hex = d.clientSecretSha256 ?? (d.clientSecret !== undefined ? sha256Hex(d.clientSecret) : undefined);
    if (!hex) throw new Error(`auth.clients: client ${d.clientId} has no secret`);
    const client: GatewayClient = Object.freeze({
      clientId: d.clientId,
      districts: [...d.districts],
      scopes: [...d.scopes],
      allowNoCache: d.allowNoCache ?? false,
      ...(d.rateLimit ? { rateLimit: Object.freeze({ ...d.rateLimit }) } : {}),
    });
    byId.set(d.clientId, { client, digest: Buffer.from(hex, 'hex') });
  }

  return {
    get: (clientId) => byId.get(clientId)?.client,
    authenticate(clientId, candidates) {
      const entry = byId.get(clientId);
      const expected = entry?.digest ?? DUMMY;
      let ok = false;
      for (const secret of candidates) {
        const given = Buffer.from(sha256Hex(secret), 'hex');
        // Evaluate every candidate so timing does not reveal which one matched.
        ok = timingSafeEqual(given, expected) || ok;
      }
      return ok && entry ? entry.client : undefined;
    },
    canSeeDistrict: (client, districtId) => client.districts.some((d) => districtMatches(d, districtId)),
  };
}

/**
 * The scopes a token for `client` gets: those requested, which must all be the client's,
 * or every scope the client has when none are requested (RFC 6749 §3.3). Throws a
 * `ScopeRefusal` naming the unknown or ungranted scopes.
 */
export function grantScopes(client: GatewayClient, requested: string | undefined): Scope[] {
  if (requested === undefined || requested.trim() === '') return [...client.scopes];
  const { scopes: asked, unknown } = parseScopeParam(requested);
  if (unknown.length > 0) throw new ScopeRefusal('unknown', unknown);
  const denied = asked.filter((s) => !client.scopes.includes(s));
  if (denied.length > 0) throw new ScopeRefusal('not_granted', denied);
  return asked;
}

export class ScopeRefusal extends Error {
  override readonly name = 'ScopeRefusal';
  constructor(
    readonly reason: 'unknown' | 'not_granted',
    readonly scopes: readonly string[],
  ) {
    super(`${reason === 'unknown' ? 'unknown scope' : 'scope not granted'}: ${scopes.join(' ')}`);
  }
}
