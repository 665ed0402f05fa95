import { createClientRegistry, echoScopes, grantScopes, ScopeRefusal } from '../auth/clients.js';
import { createTokenService } from '../auth/tokens.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Scope } from '../core/oneroster/scopes.js';
import { CliFailure } from './io.js';

export interface MintedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

/**
 * A gateway access token for a configured client, signed with auth.tokenSecret, as
 * POST /oauth/token issues it: the requested scopes must all be the client's; none
 * requested means every scope the client has. No secret of the client is needed: whoever
 * can read the config can sign tokens anyway.
 */
export function mintToken(config: Readonly<GatewayConfig>, clientId: string, requested?: string, now?: () => number): MintedToken {
  const tokens = createTokenService({ secret: config.auth.tokenSecret, ttlSeconds: config.auth.tokenTtlSeconds, ...(now ? { now } : {}) });
  // Stamped with the client's current secret, as /oauth/token does: a rotation ends it too.
  const client = createClientRegistry(config.auth.clients, { stamp: tokens.credentialStamp }).get(clientId);
  if (!client) {
    const known = config.auth.clients.map((c) => c.clientId);
    throw new CliFailure(`no client "${clientId}" in the config${known.length ? ` (clients: ${known.join(', ')})` : ' (it has no clients)'}`);
  }
  let scopes: Scope[];
  try {
    scopes = grantScopes(client, requested);
  } catch (err) {
    if (!(err instanceof ScopeRefusal)) throw err;
    throw new CliFailure(err.reason === 'unknown' ? `unknown scope: ${err.scopes.join(' ')}` : `scope not granted to client "${clientId}": ${err.scopes.join(' ')}`);
  }
  const issued = tokens.issue(client.clientId, scopes, client.credentialStamp);
  return { access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope: echoScopes(requested, scopes) };
}
