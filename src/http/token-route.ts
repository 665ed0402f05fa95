import { isIP } from 'node:net';
import type { Context } from 'hono';
import { echoScopes, grantScopes, ScopeRefusal, type ClientRegistry, type GatewayClient } from '../auth/clients.js';
import type { FailedAuthThrottle, ThrottleKeys } from '../auth/failed-auth-throttle.js';
import type { TokenService } from '../auth/tokens.js';
import { GatewayError } from '../core/errors.js';
import { parseRawQuery } from '../core/oneroster/query.js';
import type { Scope } from '../core/oneroster/scopes.js';
import type { AppEnv } from './env.js';
import type { InputLimits } from './input-limits.js';
import { readBody } from './read-body.js';

export interface TokenRouteOptions {
  tokens: TokenService;
  clients: ClientRegistry;
  logger: { warn(obj: object): void };
  limits: Pick<InputLimits, 'maxTokenBodyBytes' | 'bodyIdleTimeoutMs'>;
  /** server.trustProxy: the client address is the right-most X-Forwarded-For entry. */
  trustProxy?: boolean;
  /** Failed-authentication throttle; absent: failures are only logged. */
  throttle?: FailedAuthThrottle;
  metrics?: { tokenIssued(clientId: string): void };
}

const CHALLENGE = { 'www-authenticate': 'Basic realm="oneroster-gateway"' };

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

/** Client text for a log line or an error description: bounded, printable. */
const printable = (s: string, max: number) => (s.length > max ? `${s.slice(0, max)}...` : s).replace(/[^\x20-\x7e]/g, '?');

/** `::ffff:10.0.0.1` is the IPv4 peer of a dual-stack socket: one spelling per address. */
const canonicalIp = (ip: string) => (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip) ? ip.slice(7) : ip.toLowerCase());

/** An X-Forwarded-For entry as an IP, allowing the `ip:port` and `[ipv6]:port` forms some balancers write. */
function forwardedIp(entry: string): string | undefined {
  const e = entry.trim();
  if (isIP(e)) return e;
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(e) ?? /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(e);
  return m && isIP(m[1]!) ? m[1]! : undefined;
}

/**
 * The client's address: the socket's peer, or with server.trustProxy the right-most
 * X-Forwarded-For entry, the one the balancer in front appended (entries left of it are
 * whatever the client sent). @hono/node-server passes `{ incoming }` as the fetch env.
 */
export function clientAddress(c: Context<AppEnv>, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for');
    const ip = forwarded ? forwardedIp(forwarded.slice(forwarded.lastIndexOf(',') + 1)) : undefined;
    if (ip) return canonicalIp(ip);
  }
  const peer = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
  return peer ? canonicalIp(peer) : undefined;
}

/** The form's parameters; a repeated one is refused, as RFC 6749 §3.2 requires. */
function parseForm(raw: string): Map<string, string> {
  let pairs: Array<[string, string]>;
  try {
    pairs = parseRawQuery(raw);
  } catch {
    throw new GatewayError('oauth_invalid_request', 'The token request body has malformed percent-encoding.');
  }
  const form = new Map<string, string>();
  for (const [k, v] of pairs) {
    if (form.has(k)) throw new GatewayError('oauth_invalid_request', `The parameter "${printable(k, 40)}" is repeated; each may appear once (RFC 6749 §3.2).`);
    form.set(k, v);
  }
  return form;
}

/** POST /oauth/token: OAuth 2.0 client credentials grant (RFC 6749 §4.4). */
export function tokenRoute(options: TokenRouteOptions) {
  if (!options?.tokens || !options.clients || !options.logger || !options.limits) throw new Error('tokenRoute: tokens, clients, logger and limits are required');
  const { tokens, clients, logger, throttle, metrics } = options;
  const { maxTokenBodyBytes: maxBytes, bodyIdleTimeoutMs } = options.limits;
  const trustProxy = options.trustProxy ?? false;
  // The route is built once per process: one line tells the operator, without flooding the log.
  let warnedForwardedFor = false;

  /** Without trustProxy the address is the balancer's when there is one: every client would share one failure budget. */
  function warnIfBehindProxy(c: Context<AppEnv>, address: string | undefined): void {
    if (trustProxy || warnedForwardedFor || c.req.header('x-forwarded-for') === undefined) return;
    warnedForwardedFor = true;
    logger.warn({ msg: 'behind a load balancer? set server.trustProxy so failed logins are counted per client address', requestId: c.get('requestId'), address });
  }

  /** A failed client authentication: logged (never the secret), counted, answered 401. */
  async function refuse(c: Context<AppEnv>, keys: ThrottleKeys, description: string): Promise<never> {
    const clientId = keys.clientId === undefined ? undefined : printable(keys.clientId, 64);
    logger.warn({ msg: 'client authentication failed', requestId: c.get('requestId'), clientId, address: keys.address });
    const counted = await throttle?.failed(keys);
    if (counted && counted.blockedMs > 0) {
      logger.warn({ msg: 'client authentication throttled', clientId, address: keys.address, by: counted.by, retryAfterSeconds: Math.ceil(counted.blockedMs / 1000) });
    }
    throw new GatewayError('oauth_invalid_client', description, { headers: CHALLENGE });
  }

  return async function tokenRoute(c: Context<AppEnv>): Promise<Response> {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
      // Its body goes unread: close, or Node would read and drop all of it before the next request.
      throw new GatewayError('oauth_invalid_request', 'The token request must be application/x-www-form-urlencoded.', { headers: { connection: 'close' } });
    }
    const body = await readBody(c.req.raw, {
      maxBytes,
      idleTimeoutMs: bodyIdleTimeoutMs,
      // 413, not RFC 6749's 400: the body was cut at its bound, never read as a token request,
      // and 413 is what HTTP clients and proxies take as "do not send this body again" (RFC 9110
      // §15.5.14). The `error` field still lets an OAuth library report it.
      tooLarge: (headers) => new GatewayError('oauth_invalid_request', `The token request body is larger than ${maxBytes} bytes.`, { status: 413, headers }),
    });
    const form = parseForm(body.toString('utf8'));
    const grant = form.get('grant_type');
    if (!grant) throw new GatewayError('oauth_invalid_request', 'grant_type is required.');
    if (grant !== 'client_credentials') {
      throw new GatewayError('oauth_unsupported_grant_type', 'Only grant_type=client_credentials is supported.');
    }

    const authHeader = c.req.header('authorization');
    const basic = authHeader ? basicCredentials(authHeader) : undefined;
    const bodyId = form.get('client_id');
    const bodySecret = form.get('client_secret');
    if (basic && bodySecret !== undefined) {
      throw new GatewayError('oauth_invalid_request', 'Send client credentials either with HTTP Basic or in the body, not both.');
    }
    const ids = basic ? basic.id : bodyId !== undefined ? [bodyId] : [];
    const secrets = basic ? basic.secret : bodySecret !== undefined ? [bodySecret] : [];
    // Every spelling of one client shares its throttle: the id as registered when a reading names one.
    const keys: ThrottleKeys = { clientId: ids.find((id) => clients.get(id)) ?? ids[0], address: clientAddress(c, trustProxy) };
    warnIfBehindProxy(c, keys.address);
    // Before the secret is compared: while throttled, a right guess must look like a wrong one.
    // Only an address that failed itself is held (src/auth/failed-auth-throttle.ts): a client id
    // is not secret, so nobody else's failures may lock the real client out.
    const waitMs = throttle?.blockedFor(keys) ?? 0;
    if (waitMs > 0) {
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      throw new GatewayError('oauth_throttled', `Too many failed client authentications; retry after ${seconds} s.`, { headers: { 'retry-after': String(seconds) } });
    }
    if (authHeader && !basic) return refuse(c, keys, 'The Authorization header must be HTTP Basic with client_id:client_secret.');
    let client: GatewayClient | undefined;
    for (const id of ids) client ??= clients.authenticate(id, secrets);
    if (!client) return refuse(c, keys, 'Client authentication failed.');

    let scopes: Scope[];
    const requested = form.get('scope');
    try {
      scopes = grantScopes(client, requested);
    } catch (err) {
      if (!(err instanceof ScopeRefusal)) throw err;
      const listed = err.scopes.slice(0, 5).join(' ').slice(0, 200);
      throw new GatewayError('oauth_invalid_scope', err.reason === 'unknown' ? `Unknown scope: ${listed}` : `Scope not granted to this client: ${listed}`);
    }
    // The token holds short names; the answer echoes the client's own spelling.
    const issued = tokens.issue(client.clientId, scopes, client.credentialStamp);
    metrics?.tokenIssued(client.clientId);
    c.header('cache-control', 'no-store');
    c.header('pragma', 'no-cache');
    return c.json({ access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope: echoScopes(requested, scopes) });
  };
}
