import { createHash, timingSafeEqual } from 'node:crypto';
import { normalizeScope, parseScopeParam, type Scope } from '../core/oneroster/scopes.js';

export interface GatewayClient {
  clientId: string;
  districts: readonly string[];
  scopes: readonly Scope[];
  /** May force an upstream refresh with Cache-Control: no-cache. */
  allowNoCache: boolean;
  /** Requests per second (token bucket); a cache hit costs `hitCost` of a request. */
  rateLimit?: ClientRateLimit;
  /**
   * A short keyed hash of the client's current secret (TokenService.credentialStamp), carried by
   * its tokens: a rotated secret changes it, and the tokens issued before stop working.
   */
  credentialStamp?: string;
}

export interface ClientRateLimit {
  requestsPerSecond: number;
  burst?: number;
  hitCost: number;
}

export interface ClientDefinition extends Omit<GatewayClient, 'allowNoCache' | 'rateLimit' | 'credentialStamp'> {
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

export interface ClientRegistryOptions {
  /**
   * Stamps each client's credential (TokenService.credentialStamp), once per registry: the
   * gateway passes it so that a secret rotated by a reload invalidates the earlier tokens.
   */
  stamp?: (clientId: string, secretSha256Hex: string) => string;
}

export function createClientRegistry(definitions: readonly ClientDefinition[], options: ClientRegistryOptions = {}): ClientRegistry {
  if (options.stamp !== undefined && typeof options.stamp !== 'function') throw new Error('createClientRegistry: stamp must be a function');
  const byId = new Map<string, { client: GatewayClient; digest: Buffer }>();
  for (const d of definitions) {
    const hex = (d.clientSecretSha256 ?? (d.clientSecret !== undefined ? sha256Hex(d.clientSecret) : undefined))?.toLowerCase();
    if (!hex) throw new Error(`auth.clients: client ${d.clientId} has no secret`);
    const client: GatewayClient = Object.freeze({
      clientId: d.clientId,
      districts: [...d.districts],
      scopes: [...d.scopes],
      allowNoCache: d.allowNoCache ?? false,
      ...(d.rateLimit ? { rateLimit: Object.freeze({ ...d.rateLimit }) } : {}),
      ...(options.stamp ? { credentialStamp: options.stamp(d.clientId, hex) } : {}),
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

/**
 * The `scope` of a token answer: each granted scope spelled as the client asked for it (a
 * 1EdTech URI stays a URI), since OAuth libraries compare it with their request and fail on
 * any difference (requests-oauthlib: "Scope has changed"). Nothing asked: the short names.
 */
export function echoScopes(requested: string | undefined, granted: readonly Scope[]): string {
  if (requested === undefined || requested.trim() === '') return granted.join(' ');
  const seen = new Set<Scope>();
  const out: string[] = [];
  for (const part of requested.split(/\s+/)) {
    const scope = part ? normalizeScope(part) : undefined;
    if (!scope || seen.has(scope) || !granted.includes(scope)) continue;
    seen.add(scope);
    out.push(part);
  }
  return out.join(' ');
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
