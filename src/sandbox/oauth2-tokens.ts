// OAuth 2.0 client-credentials token endpoint (RFC 6749 §4.4) and the bearer tokens it
// issues. Tokens are random and opaque; expiry follows the injected clock so tests can
// move time instead of sleeping.

import { randomBytes } from 'node:crypto';
import { decodeForm, formDecode } from './rfc3986.js';
import { safeEqual } from './secret-compare.js';

export interface TokenReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface TokenRequest {
  method: string;
  authorization?: string;
  contentType?: string;
  body: string;
}

interface Client {
  clientId: string;
  clientSecret: string;
  ttlSeconds: number;
}

export class OAuth2Tokens {
  private readonly issued = new Map<string, number>(); // token -> expiry (ms)

  constructor(
    private readonly client: Client | null, // null: this sandbox does not speak OAuth2
    private readonly now: () => number,
    private readonly defaultScope: string,
  ) {}

  /** Server-side rotation: every token issued so far stops working. */
  revokeAll(): void {
    this.issued.clear();
  }

  isValid(token: string): boolean {
    const expiry = this.issued.get(token);
    if (expiry === undefined) return false;
    if (this.now() < expiry) return true;
    this.issued.delete(token);
    return false;
  }

  handle(req: TokenRequest): TokenReply {
    if (req.method !== 'POST') return reply(405, { error: 'invalid_request', error_description: 'use POST' }, { allow: 'POST' });
    let form: Map<string, string>;
    try {
      form = new Map(decodeForm(req.body));
    } catch {
      return reply(400, { error: 'invalid_request', error_description: 'malformed form body' });
    }
    const creds = this.credentials(req.authorization, form);
    if ('error' in creds) return creds.error;
    if (!this.client || !this.matches(creds)) {
      const challenge: Record<string, string> = creds.viaBasic ? { 'www-authenticate': 'Basic realm="oneroster-sandbox"' } : {};
      return reply(401, { error: 'invalid_client', error_description: 'client authentication failed' }, challenge);
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return reply(400, { error: 'unsupported_grant_type', error_description: 'only client_credentials is supported' });
    }
    const token = randomBytes(32).toString('base64url');
    this.issued.set(token, this.now() + this.client.ttlSeconds * 1000);
    return reply(200, {
      access_token: token,
      token_type: 'bearer',
      expires_in: this.client.ttlSeconds,
      scope: form.get('scope') ?? this.defaultScope,
    });
  }

  /** Basic (preferred) or form-body credentials; RFC 6749 §2.3.1 forbids using both. */
  private credentials(authorization: string | undefined, form: Map<string, string>):
    | { ids: [string, string][]; viaBasic: boolean }
    | { error: TokenReply } {
    const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization ?? '');
    const inBody = form.has('client_id') || form.has('client_secret');
    if (basic && inBody) return { error: reply(400, { error: 'invalid_request', error_description: 'use one client authentication method' }) };
    if (!basic) return { ids: [[form.get('client_id') ?? '', form.get('client_secret') ?? '']], viaBasic: false };
    const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ids: [], viaBasic: true };
    const rawId = decoded.slice(0, colon);
    const rawSecret = decoded.slice(colon + 1);
    // §2.3.1 says id and secret are form-urlencoded before Basic; most clients skip that,
    // so both the decoded and the raw pair are accepted, like lenient real servers.
    const ids: [string, string][] = [[rawId, rawSecret]];
    try {
      ids.push([formDecode(rawId), formDecode(rawSecret)]);
    } catch {
      // not form-encoded: the raw pair is all there is
    }
    return { ids, viaBasic: true };
  }

  private matches(creds: { ids: [string, string][] }): boolean {
    const c = this.client;
    return c !== null && creds.ids.some(([id, secret]) => safeEqual(id, c.clientId) && safeEqual(secret, c.clientSecret));
  }
}

function reply(status: number, body: unknown, headers: Record<string, string> = {}): TokenReply {
  // RFC 6749 §5.1: token responses must not be cached.
  return { status, body, headers: { 'cache-control': 'no-store', pragma: 'no-cache', ...headers } };
}
