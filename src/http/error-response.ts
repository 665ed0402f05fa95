import { GatewayError, statusInfoBody, type OneRosterVersion } from '../core/errors.js';

/** The OneRoster version whose error shape a path calls for; the gateway's own routes use 1.2. */
function errorVersionForPath(path: string): OneRosterVersion {
  // Extra slashes as the router reads them (core/oneroster/paths.ts): `oneroster//v1p1` is 1.1.
  return /\/ims\/oneroster\/+v1p1(\/|$)/.test(path) ? 'v1p1' : 'v1p2';
}

/** The one place an error becomes an HTTP response. */
export function errorResponse(err: GatewayError, path: string, requestId?: string): Response {
  const body: Record<string, unknown> = statusInfoBody(errorVersionForPath(path), {
    codeMajor: err.codeMajor,
    codeMinor: err.codeMinor,
    description: err.description,
  });
  if (err.oauthError) {
    // RFC 6749 §5.2 fields next to the status info, so OAuth libraries understand it too.
    body.error = err.oauthError;
    body.error_description = err.description;
  }
  const headers = new Headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...err.headers });
  if (requestId) headers.set('x-request-id', requestId);
  return new Response(JSON.stringify(body), { status: err.status, headers });
}

/**
 * What Node's HTTP parser refuses before any route runs (a request line or headers over its
 * limit, malformed HTTP) as raw bytes for the socket: the same JSON envelope as every other
 * error, where Node would answer a bare 400/431 with no body. A HEAD request gets the head
 * only (RFC 9110 §9.3.2): its client reads no body, and would take one for a protocol error.
 */
export function parserErrorBytes(code: string | undefined, head = false): string {
  const [status, reason, description] =
    code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'The request line or headers are too large.']
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'The request did not arrive in time.']
        : [400, 'Bad Request', 'The request is not valid HTTP.'];
  const body = JSON.stringify(statusInfoBody('v1p2', { codeMajor: 'failure', codeMinor: 'invaliddata', description }));
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${head ? '' : body}`;
}

/**
 * What @hono/node-server could not make a Request of (its RequestError: a backslash in the
 * path, a bad Host header) is the client's fault, 400; anything else the fetch handler let
 * escape is ours, 500. Both in the envelope every other error has (1.2: no route was read).
 */
export function requestErrorResponse(err: unknown): Response {
  const malformed = err instanceof Error && err.name === 'RequestError';
  return errorResponse(
    malformed
      ? new GatewayError('invalid_query', 'The request target or Host header is not valid.')
      : new GatewayError('internal', 'Internal error; see the gateway log.'),
    '/',
  );
}
