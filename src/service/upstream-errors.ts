import { GatewayError } from '../core/errors.js';
import { readUpstreamStatusInfo } from '../core/oneroster/status-info.js';
import { NO_REDACTION, redactDescription, type Redactor } from '../core/redact.js';
import { UpstreamError, type UpstreamResponse } from '../upstream/types.js';

/** A transport failure as the client's error. The district id is safe to name; the URL is not. */
export function fromUpstreamFailure(err: unknown, districtId: string): unknown {
  if (!(err instanceof UpstreamError)) return err;
  // Which of the district's servers failed, never where it is.
  const at = err.detail.stage === 'token' ? ' (its OAuth2 token endpoint)' : '';
  switch (err.code) {
    case 'UPSTREAM_TIMEOUT':
      return new GatewayError('upstream_timeout', `District "${districtId}" did not answer in time${at}.`);
    case 'UPSTREAM_UNREACHABLE':
      return new GatewayError('upstream_unreachable', `District "${districtId}" could not be reached${at}.`);
    case 'UPSTREAM_BUSY':
      return new GatewayError('upstream_busy', `District "${districtId}" is busy (too many requests or bytes in flight for it); retry later.`, {
        headers: { 'retry-after': '1' },
      });
    case 'UPSTREAM_AUTH_FAILED':
      return new GatewayError('upstream_auth_failed', `The gateway could not authenticate to district "${districtId}".`);
    case 'UPSTREAM_CIRCUIT_OPEN':
      return new GatewayError('upstream_circuit_open', `District "${districtId}" is failing; the gateway leaves it alone for a while. Retry later.`, {
        headers: { 'retry-after': String(Math.max(1, Math.ceil((err.retryAfterMs ?? 1000) / 1000))) },
      });
    case 'UPSTREAM_TOO_LARGE':
      return new GatewayError('upstream_too_large', `District "${districtId}" answered more than the gateway accepts (districts[].upstream.maxBodyBytes).`);
    case 'UPSTREAM_BAD_ENCODING':
      return new GatewayError('upstream_bad_response', `District "${districtId}" answered with a compressed body the gateway could not decode.`);
    case 'UPSTREAM_ABORTED':
      return err;
  }
}

export function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/**
 * An upstream error answer as the client's error: 4xx keep their status, 5xx become
 * 502/503/504. The district's own description is kept, redacted of the district's secrets
 * and addresses (and of anything shaped like a URL, a credential or an IP address).
 */
export function fromUpstreamStatus(res: UpstreamResponse, districtId: string, redactor: Redactor = NO_REDACTION): GatewayError {
  const parsed = parseJson(res.body);
  const info = readUpstreamStatusInfo(res.status, parsed.ok ? parsed.value : undefined);
  const description = info.description === undefined ? '' : redactDescription(info.description, redactor);
  const said = description ? `: ${description}` : '.';
  const headers: Record<string, string> = {};
  const retryAfter = res.headers['retry-after'];
  if (retryAfter && /^\s*\d{1,6}\s*$/.test(retryAfter)) headers['retry-after'] = retryAfter.trim();
  if (res.status >= 400 && res.status < 500) {
    const what =
      res.status === 401 || res.status === 403
        ? `District "${districtId}" refused the gateway's credentials (HTTP ${res.status})`
        : `District "${districtId}" answered HTTP ${res.status}`;
    return new GatewayError('upstream_status', `${what}${said}`, { status: res.status, codeMinor: info.codeMinor, headers });
  }
  const status = res.status === 503 || res.status === 504 ? res.status : 502;
  return new GatewayError('upstream_status', `District "${districtId}" failed with HTTP ${res.status}${said}`, {
    status,
    codeMinor: status === 503 ? 'server_busy' : 'internal_server_error',
    headers,
  });
}

/** Why a 2xx body is unusable, or undefined when it is JSON. */
export function badContentReason(res: UpstreamResponse): string | undefined {
  const type = res.headers['content-type'] ?? '';
  if (/text\/html/i.test(type) || /^\s*</.test(res.body.subarray(0, 64).toString('utf8'))) return 'an HTML page';
  return undefined;
}
