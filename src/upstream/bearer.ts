// A static bearer token (RFC 6750), e.g. ClassLink's OneRoster proxy. Sent exactly as
// configured: the token is opaque to us and some issuers use characters that any
// normalisation would break.
import type { AuthScheme } from './http.js';

export interface BearerOptions {
  token: string;
}

export function bearer(options: BearerOptions): AuthScheme {
  const { token } = options;
  if (!token) throw new Error('bearer: token is required');
  // A CR or LF would let the configured value inject headers; undici rejects it at send
  // time anyway, but a configuration error belongs at start-up.
  if (/[\r\n\0]/.test(token)) throw new Error('bearer: token must not contain CR, LF or NUL');
  const authorization = `Bearer ${token}`;
  return (next) =>
    async function bearerSend(req) {
      return next({ ...req, headers: { ...req.headers, authorization } });
    };
}
