import type { Context } from 'hono';
import { grantScopes, ScopeRefusal, type ClientRegistry } from '../auth/clients.js';
import type { TokenService } from '../auth/tokens.js';
import { GatewayError } from '../core/errors.js';
import { parseRawQuery } from '../core/oneroster/query.js';
import type { Scope } from '../core/oneroster/scopes.js';
import type { AppEnv } from './env.js';

const MAX_BODY = 8192;

function formDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * Client id and secret candidates from HTTP Basic. RFC 6749 §2.3.1 says both are
 * form-urlencoded before base64, but many clients send them raw: try both readings.
 */
function basicCredentials(header: string): { id: string[]; secret: string[] } | undefined {
  const m = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const both = (raw: string) => [...new Set([raw, formDecode(raw)].filter((v): v is string => v !== undefined))];
  return { id: both(decoded.slice(0, colon)), secret: both(decoded.slice(colon + 1)) };
}

/** POST /oauth/token: OAuth 2.0 client credentials grant (RFC 6749 §4.4). */
export function tokenRoute(deps: { tokens: TokenService; clients: ClientRegistry; metrics?: { tokenIssued(clientId: string): void } }) {
  return async function tokenRoute(c: Context<AppEnv>): Promise<Response> {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
      throw new GatewayError('oauth_invalid_request', 'The token request must be application/x-www-form-urlencoded.');
    }
    const raw = await c.req.text();
    if (raw.length > MAX_BODY) throw new GatewayError('oauth_invalid_request', 'The token request body is too large.');
    let form: Map<string, string>;
    try {
      form = new Map(parseRawQuery(raw));
    } catch {
      throw new GatewayError('oauth_invalid_request', 'The token request body has malformed percent-encoding.');
    }
    const grant = form.get('grant_type');
    if (!grant) throw new GatewayError('oauth_invalid_request', 'grant_type is required.');
    if (grant !== 'client_credentials') {
      throw new GatewayError('oauth_unsupported_grant_type', 'Only grant_type=client_credentials is supported.');
    }

    const authHeader = c.req.header('authorization');
    const basic = authHeader ? basicCredentials(authHeader) : undefined;
    const bodyId = form.get('client_id');
    const bodySecret = form.get('client_secret');
    if (authHeader && !basic) {
      throw new GatewayError('oauth_invalid_client', 'The Authorization header must be HTTP Basic with client_id:client_secret.', {
        headers: { 'www-authenticate': 'Basic realm="oneroster-gateway"' },
      });
    }
    if (basic && bodySecret !== undefined) {
      throw new GatewayError('oauth_invalid_request', 'Send client credentials either with HTTP Basic or in the body, not both.');
    }
    const ids = basic ? basic.id : bodyId !== undefined ? [bodyId] : [];
    const secrets = basic ? basic.secret : bodySecret !== undefined ? [bodySecret] : [];
    const client = ids.length === 0 ? undefined : deps.clients.authenticate(ids[0]!, secrets) ?? (ids[1] ? deps.clients.authenticate(ids[1], secrets) : undefined);
    if (!client) {
      throw new GatewayError('oauth_invalid_client', 'Client authentication failed.', {
        headers: { 'www-authenticate': 'Basic realm="oneroster-gateway"' },
      });
    }

    let scopes: Scope[];
    try {
      scopes = grantScopes(client, form.get('scope'));
    } catch (err) {
      if (!(err instanceof ScopeRefusal)) throw err;
      const listed = err.scopes.slice(0, 5).join(' ').slice(0, 200);
      throw new GatewayError('oauth_invalid_scope', err.reason === 'unknown' ? `Unknown scope: ${listed}` : `Scope not granted to this client: ${listed}`);
    }
    const issued = deps.tokens.issue(client.clientId, scopes);
    deps.metrics?.tokenIssued(client.clientId);
    c.header('cache-control', 'no-store');
    c.header('pragma', 'no-cache');
    return c.json({ access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope: scopes.join(' ') });
  };
}
