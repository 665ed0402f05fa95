import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { normalizeScope, type Scope } from '../core/oneroster/scopes.js';

// Access tokens are compact JWS (RFC 7515) with HS256 over the shared auth.tokenSecret, so
// any replica verifies a token another replica issued without shared state.

export interface TokenClaims {
  clientId: string;
  scopes: Scope[];
  issuedAt: number;
  expiresAt: number;
  tokenId: string;
  /** The client's credential stamp when the token was issued (GatewayClient.credentialStamp). */
  credentialStamp?: string;
}

export interface TokenServiceOptions {
  secret: string;
  ttlSeconds: number;
  now?: () => number;
}

export interface TokenService {
  /** `credentialStamp`: the client's (GatewayClient.credentialStamp), checked again at every use. */
  issue(clientId: string, scopes: readonly Scope[], credentialStamp?: string): { token: string; expiresIn: number; claims: TokenClaims };
  /**
   * Claims of a valid, unexpired token; undefined otherwise (never throws on bad input). Says
   * nothing of the client's current credential: compare `credentialStamp` with the client's.
   */
  verify(token: string): TokenClaims | undefined;
  /**
   * A short keyed hash of a client's secret digest: in a token it shows which secret the token
   * was issued under without revealing it (keyed, so a leaked token allows no offline guessing
   * of a weak secret; truncated, since it only has to differ when the secret does).
   */
  credentialStamp(clientId: string, secretSha256Hex: string): string;
}

const ISSUER = 'oneroster-gateway';
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
const MAX_TOKEN_LENGTH = 4096;
// Verified tokens are remembered so a busy client costs one HMAC per token, not per request.
const VERIFIED_MEMO = 10_000;
// 96 bits: a rotation that kept the stamp by chance is out of reach.
const STAMP_CHARS = 16;

function b64url(s: string | Buffer): string {
  return Buffer.from(s).toString('base64url');
}

export function createTokenService(options: TokenServiceOptions): TokenService {
  if (!options.secret || options.secret.length < 32) throw new Error('auth.tokenSecret: must be at least 32 characters');
  if (!(options.ttlSeconds > 0)) throw new Error('auth.tokenTtlSeconds: must be positive');
  const key = Buffer.from(options.secret, 'utf8');
  const now = options.now ?? Date.now;
  const sign = (input: string) => createHmac('sha256', key).update(input).digest();
  const verified = new Map<string, TokenClaims>();

  function check(token: string): TokenClaims | undefined {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== HEADER) return undefined;
    // The signature's text, not its decoded bytes: Node's base64url decoder also takes '+' '/'
    // '=' and ignores a last character's spare bits, so other spellings of it would pass too.
    const given = Buffer.from(parts[2]!);
    const expected = Buffer.from(b64url(sign(`${parts[0]}.${parts[1]}`)));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!body || typeof body !== 'object') return undefined;
    const { iss, sub, scope, iat, exp, jti, cred } = body as Record<string, unknown>;
    if (iss !== ISSUER || typeof sub !== 'string' || typeof scope !== 'string') return undefined;
    if (typeof iat !== 'number' || typeof exp !== 'number' || typeof jti !== 'string') return undefined;
    if (cred !== undefined && typeof cred !== 'string') return undefined;
    const scopes = scope.split(' ').filter(Boolean).map(normalizeScope);
    if (scopes.some((s) => s === undefined)) return undefined;
    return { clientId: sub, scopes: scopes as Scope[], issuedAt: iat, expiresAt: exp, tokenId: jti, ...(cred !== undefined ? { credentialStamp: cred } : {}) };
  }

  return {
    issue(clientId, scopes, credentialStamp) {
      const iat = Math.floor(now() / 1000);
      const claims: TokenClaims = {
        clientId,
        scopes: [...scopes],
        issuedAt: iat,
        expiresAt: iat + options.ttlSeconds,
        tokenId: randomBytes(12).toString('base64url'),
        ...(credentialStamp !== undefined ? { credentialStamp } : {}),
      };
      const payload = b64url(
        JSON.stringify({
          iss: ISSUER,
          sub: clientId,
          scope: scopes.join(' '),
          iat,
          exp: claims.expiresAt,
          jti: claims.tokenId,
          ...(credentialStamp !== undefined ? { cred: credentialStamp } : {}),
        }),
      );
      const input = `${HEADER}.${payload}`;
      return { token: `${input}.${b64url(sign(input))}`, expiresIn: options.ttlSeconds, claims };
    },

    verify(token) {
      let claims = verified.get(token);
      if (!claims) {
        claims = check(token);
        if (!claims) return undefined;
        if (verified.size >= VERIFIED_MEMO) verified.delete(verified.keys().next().value!);
        verified.set(token, claims);
      }
      if (Math.floor(now() / 1000) >= claims.expiresAt) {
        verified.delete(token);
        return undefined;
      }
      return claims;
    },

    credentialStamp(clientId, secretSha256Hex) {
      // Its own label: this HMAC never signs anything a token verification would accept.
      return createHmac('sha256', key).update(`client-credential\0${clientId}\0${secretSha256Hex.toLowerCase()}`).digest('base64url').slice(0, STAMP_CHARS);
    },
  };
}
