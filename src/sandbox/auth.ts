// Checks the credentials on a data request for the configured flavour. Each failure
// carries a reason (it goes into the error description) and a WWW-Authenticate challenge.

import { oauth1Verifier, type OAuth1Request } from './oauth1-verify.js';
import { OAuth2Tokens } from './oauth2-tokens.js';
import { safeEqual } from './secret-compare.js';
import type { SandboxAuth, SandboxVersion } from './types.js';

export type AuthResult = { ok: true } | { ok: false; reason: string; challenge: string };

export interface Authenticator {
  readonly tokens: OAuth2Tokens;
  check(req: OAuth1Request): AuthResult;
}

const SCOPES: Record<SandboxVersion, string> = {
  v1p1: ['roster-core.readonly', 'roster.readonly', 'roster-demographics.readonly', 'resource.readonly', 'gradebook.readonly', 'gradebook.createput', 'gradebook.delete']
    .map((s) => `https://purl.imsglobal.org/spec/or/v1p1/scope/${s}`).join(' '),
  v1p2: ['roster-core.readonly', 'roster.readonly', 'roster-demographics.readonly', 'resource.readonly', 'gradebook.readonly', 'gradebook.createput', 'gradebook.createpost', 'gradebook.delete', 'assessment.readonly', 'assessment.createput', 'assessment.delete']
    .map((s) => `https://purl.imsglobal.org/spec/or/v1p2/scope/${s}`).join(' '),
};

export function createAuthenticator(auth: SandboxAuth, version: SandboxVersion, now: () => number): Authenticator {
  const client = auth.type === 'oauth2'
    ? { clientId: auth.clientId, clientSecret: auth.clientSecret, ttlSeconds: auth.tokenTtlSeconds ?? 3600 }
    : null;
  const tokens = new OAuth2Tokens(client, now, SCOPES[version]);
  if (auth.type === 'oauth1') {
    const verifier = oauth1Verifier(auth.consumerKey, auth.consumerSecret, now);
    return {
      tokens,
      check(req) {
        const r = verifier.verify(req);
        return r.ok ? { ok: true } : { ok: false, reason: `OAuth 1.0a: ${r.reason}`, challenge: 'OAuth realm="oneroster-sandbox"' };
      },
    };
  }
  const isValid = auth.type === 'oauth2' ? (t: string) => tokens.isValid(t) : (t: string) => safeEqual(t, auth.token);
  return {
    tokens,
    check(req) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.authorization ?? '');
      if (!m) return { ok: false, reason: 'missing bearer token', challenge: 'Bearer realm="oneroster-sandbox"' };
      if (!isValid(m[1] as string)) {
        return { ok: false, reason: 'invalid, expired or revoked token', challenge: 'Bearer realm="oneroster-sandbox", error="invalid_token"' };
      }
      return { ok: true };
    },
  };
}
