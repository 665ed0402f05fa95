// The district's auth scheme from its config: an interceptor on the wire, and the credentials
// it obtained at run time (OAuth2 access tokens), which the district redacts from what it says.
import type { UpstreamAuthConfig } from '../config/schema.js';
import { bearer } from './bearer.js';
import type { AuthScheme } from './http.js';
import { oauth1 } from './oauth1.js';
import { oauth2, type OAuth2Event } from './oauth2.js';

export interface DistrictAuth {
  scheme: AuthScheme;
  /** Never logged. */
  credentials(): readonly string[];
}

export function districtAuth(
  auth: UpstreamAuthConfig,
  districtId: string,
  now: (() => number) | undefined,
  logger: { warn(o: object): void } | undefined,
): DistrictAuth {
  const withNow = now ? { now } : {};
  switch (auth?.type) {
    case 'oauth1':
      return fixed(oauth1({ consumerKey: auth.consumerKey, consumerSecret: auth.consumerSecret, signatureMethod: auth.signatureMethod, ...withNow }));
    case 'oauth2': {
      const scheme = oauth2({
        districtId,
        tokenUrl: auth.tokenUrl,
        clientId: auth.clientId,
        clientSecret: auth.clientSecret,
        scope: auth.scope,
        clientAuth: auth.clientAuth,
        ...withNow,
        ...(logger && { onEvent: logEvent(logger) }),
      });
      return { scheme, credentials: () => scheme.recentTokens() };
    }
    case 'bearer':
      return fixed(bearer({ token: auth.token }));
    default:
      throw new Error(`upstream client for district "${districtId}": auth.type must be oauth1, oauth2 or bearer`);
  }
}

/** A scheme whose credentials are all in the config (redacted from there). */
function fixed(scheme: AuthScheme): DistrictAuth {
  return { scheme, credentials: () => [] };
}

/** One log line per event: the scheme reports each refusal once, however many callers waited on it. */
function logEvent(logger: { warn(o: object): void }): (e: OAuth2Event) => void {
  return (e) => logger.warn({ msg: 'upstream token refused', district: e.districtId, reason: e.reason });
}
