import type { Context, MiddlewareHandler } from 'hono';
import type { ClientRegistry, GatewayClient } from '../auth/clients.js';
import type { TokenService } from '../auth/tokens.js';
import { GatewayError } from '../core/errors.js';
import type { Scope } from '../core/oneroster/scopes.js';
import type { AppEnv } from './env.js';

export interface BearerAuthOptions {
  tokens: TokenService;
  clients: ClientRegistry;
}

const REALM = 'realm="oneroster-gateway"';

/** The client a valid token names, and the token's scopes the client still holds. */
export interface BearerIdentity {
  client: GatewayClient;
  scopes: readonly Scope[];
}

/**
 * Checks the gateway access token (RFC 6750) in an Authorization header value; throws a 401
 * otherwise. Synchronous, so the hot OneRoster route calls it without a middleware frame.
 */
export function bearerVerifier(options: BearerAuthOptions): (authorization: string | null | undefined) => BearerIdentity {
  if (!options?.tokens || !options.clients) throw new Error('bearerAuth: tokens and clients are required');
  const { tokens, clients } = options;
  return function verifyBearer(header) {
    const m = header ? /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header) : null;
    if (!m) {
      throw new GatewayError('invalid_token', 'An access token is required: send Authorization: Bearer <token> (get one at POST /oauth/token).', {
        headers: { 'www-authenticate': `Bearer ${REALM}` },
      });
    }
    const claims = tokens.verify(m[1]!);
    const client = claims ? clients.get(claims.clientId) : undefined;
    // Checked at every use, after the verified-token memo: a secret rotated by a reload gives the
    // client a new stamp (a new registry), so the tokens issued under the old secret stop here.
    // A token without a stamp was issued before stamps existed (a replica on an older version
    // mid-upgrade): it is accepted until it expires, at most auth.tokenTtlSeconds.
    if (!claims || !client || (claims.credentialStamp !== undefined && claims.credentialStamp !== client.credentialStamp)) {
      throw new GatewayError('invalid_token', 'The access token is invalid or has expired; request a new one at POST /oauth/token.', {
        headers: { 'www-authenticate': `Bearer ${REALM}, error="invalid_token"` },
      });
    }
    // A scope removed from the client's config stops working before its tokens expire.
    return { client, scopes: claims.scopes.filter((s) => client.scopes.includes(s)) };
  };
}

/** The same check, putting the client and scopes on the context. */
export function bearerAuthenticator(options: BearerAuthOptions): (c: Context<AppEnv>) => BearerIdentity {
  const verify = bearerVerifier(options);
  return function authenticate(c) {
    const who = verify(c.req.header('authorization'));
    c.set('client', who.client);
    c.set('scopes', who.scopes);
    return who;
  };
}

/** The same check as a middleware, for the gateway's other guarded routes. */
export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler<AppEnv> {
  const authenticate = bearerAuthenticator(options);
  return async function bearerAuth(c, next) {
    authenticate(c);
    await next();
  };
}
