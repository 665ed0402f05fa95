import { createHash, timingSafeEqual } from 'node:crypto';
import type { Scope } from '../core/oneroster/scopes.js';

export interface GatewayClient {
  clientId: string;
  districts: readonly string[];
  scopes: readonly Scope[];
  /** May force an upstream refresh with Cache-Control: no-cache. */
  allowNoCache: boolean;
}

export interface ClientDefinition extends Omit<GatewayClient, 'allowNoCache'> {
  allowNoCache?: boolean;
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
