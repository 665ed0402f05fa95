// The one error catalogue. Every error a client sees is built from an entry here and
// rendered by `statusInfoBody` in the OneRoster status-info shape of the caller's version.

export type OneRosterVersion = 'v1p1' | 'v1p2';

/** OneRoster 1.2 imsx_codeMinorFieldValue vocabulary (1EdTech OpenAPI). */
export type CodeMinor =
  | 'fullsuccess'
  | 'invalid_filter_field'
  | 'invalid_selection_field'
  // 1.1 (1EdTech FAQ) and the 1.2 resources OpenAPI; the gateway answers it on every path.
  | 'invalid_sort_field'
  | 'invaliddata'
  | 'unauthorisedrequest'
  | 'forbidden'
  | 'server_busy'
  | 'unknownobject'
  | 'internal_server_error'
  | 'deletefailure';

interface CatalogueEntry {
  status: number;
  codeMinor: CodeMinor;
  codeMajor?: 'failure' | 'unsupported';
  /** RFC 6749 §5.2 error code, for the token endpoint. */
  oauth?: string;
}

export const ERROR_CATALOGUE = {
  invalid_token: { status: 401, codeMinor: 'unauthorisedrequest' },
  forbidden_district: { status: 403, codeMinor: 'forbidden' },
  insufficient_scope: { status: 403, codeMinor: 'forbidden' },
  unknown_district: { status: 404, codeMinor: 'unknownobject' },
  unknown_endpoint: { status: 404, codeMinor: 'unknownobject' },
  not_found: { status: 404, codeMinor: 'unknownobject' },
  method_not_allowed: { status: 405, codeMinor: 'invaliddata' },
  district_required: { status: 400, codeMinor: 'invaliddata' },
  invalid_query: { status: 400, codeMinor: 'invaliddata' },
  invalid_selection: { status: 400, codeMinor: 'invalid_selection_field' },
  invalid_filter: { status: 400, codeMinor: 'invalid_filter_field' },
  invalid_sort: { status: 400, codeMinor: 'invalid_sort_field' },
  // A client that sends its request (headers or body) too slowly.
  request_timeout: { status: 408, codeMinor: 'invaliddata' },
  invalid_body: { status: 400, codeMinor: 'invaliddata' },
  payload_too_large: { status: 413, codeMinor: 'invaliddata' },
  unsupported_media_type: { status: 415, codeMinor: 'invaliddata' },
  version_not_supported: { status: 501, codeMinor: 'invaliddata', codeMajor: 'unsupported' },
  upstream_status: { status: 502, codeMinor: 'internal_server_error' },
  upstream_timeout: { status: 504, codeMinor: 'internal_server_error' },
  upstream_unreachable: { status: 502, codeMinor: 'internal_server_error' },
  upstream_bad_response: { status: 502, codeMinor: 'internal_server_error' },
  upstream_auth_failed: { status: 502, codeMinor: 'internal_server_error' },
  // The district's answer (or a page assembled from its answers) is over districts[].upstream.maxBodyBytes.
  upstream_too_large: { status: 502, codeMinor: 'internal_server_error' },
  upstream_busy: { status: 503, codeMinor: 'server_busy' },
  // The district's circuit breaker is open: it is left alone until Retry-After.
  upstream_circuit_open: { status: 503, codeMinor: 'server_busy' },
  // A client over its rate limit (Retry-After says when to come back).
  rate_limited: { status: 429, codeMinor: 'server_busy' },
  url_too_long: { status: 414, codeMinor: 'invaliddata' },
  // A mirror snapshot (`snapshot`) or change cursor (`since`) no longer retained: start over.
  gone: { status: 410, codeMinor: 'unknownobject' },
  internal: { status: 500, codeMinor: 'internal_server_error' },
  oauth_invalid_request: { status: 400, codeMinor: 'invaliddata', oauth: 'invalid_request' },
  oauth_invalid_client: { status: 401, codeMinor: 'unauthorisedrequest', oauth: 'invalid_client' },
  oauth_unsupported_grant_type: { status: 400, codeMinor: 'invaliddata', oauth: 'unsupported_grant_type' },
  oauth_invalid_scope: { status: 400, codeMinor: 'invaliddata', oauth: 'invalid_scope' },
  // Too many failed client authentications for a client id or an address (Retry-After says when).
  oauth_throttled: { status: 429, codeMinor: 'server_busy', oauth: 'temporarily_unavailable' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface GatewayErrorOptions {
  /** Overrides the catalogue status (upstream 4xx passed on with their own status). */
  status?: number;
  codeMinor?: CodeMinor;
  headers?: Record<string, string>;
}

/** An expected failure with a client-safe description (no URL, credential or stack). */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly status: number;
  readonly codeMinor: CodeMinor;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    readonly description: string,
    options: GatewayErrorOptions = {},
  ) {
    super(description);
    const entry: CatalogueEntry = ERROR_CATALOGUE[code];
    this.status = options.status ?? entry.status;
    this.codeMinor = options.codeMinor ?? entry.codeMinor;
    this.headers = options.headers ?? {};
  }

  get codeMajor(): 'failure' | 'unsupported' {
    return (ERROR_CATALOGUE[this.code] as CatalogueEntry).codeMajor ?? 'failure';
  }

  get oauthError(): string | undefined {
    return (ERROR_CATALOGUE[this.code] as CatalogueEntry).oauth;
  }
}

// OneRoster 1.1 spelled several values with spaces (1EdTech FAQ); 1.2 removed them.
const V1P1_CODE_MINOR: Partial<Record<CodeMinor, string>> = {
  fullsuccess: 'full success',
  unknownobject: 'unknown object',
  invaliddata: 'invalid data',
  unauthorisedrequest: 'unauthorized',
};

function codeMinorFor(version: OneRosterVersion, codeMinor: CodeMinor): string {
  return version === 'v1p1' ? (V1P1_CODE_MINOR[codeMinor] ?? codeMinor) : codeMinor;
}

/** Upstream and gateway codeMinor for a bare HTTP status, used when nothing better is known. */
export function codeMinorForStatus(status: number): CodeMinor {
  if (status === 400 || status === 422) return 'invaliddata';
  if (status === 401) return 'unauthorisedrequest';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'unknownobject';
  if (status === 429) return 'server_busy';
  return 'internal_server_error';
}

export interface StatusInfo {
  codeMajor: 'failure' | 'unsupported';
  codeMinor: CodeMinor;
  description: string;
}

/** The error body in the shape of `version`: 1.2 a single object, 1.1 a statusInfoSet array. */
export function statusInfoBody(version: OneRosterVersion, info: StatusInfo): Record<string, unknown> {
  const codeMinorField = [
    { imsx_codeMinorFieldName: 'TargetEndSystem', imsx_codeMinorFieldValue: codeMinorFor(version, info.codeMinor) },
  ];
  if (version === 'v1p2') {
    return {
      imsx_codeMajor: info.codeMajor,
      imsx_severity: 'error',
      imsx_description: info.description,
      imsx_CodeMinor: { imsx_codeMinorField: codeMinorField },
    };
  }
  return {
    statusInfoSet: [
      {
        imsx_codeMajor: info.codeMajor,
        imsx_severity: 'error',
        imsx_description: info.description,
        imsx_codeMinor: { imsx_codeMinorField: codeMinorField },
      },
    ],
  };
}

/**
 * A start-up failure whose message is written for the operator and safe to print as it is:
 * it names the gateway's own settings (the address it listens on), never a district's address
 * or a secret. Any other error at start-up is reported by name and code only.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Why a listener could not open `host:port`, in words that name both (Node's own say only `EADDRINUSE`). */
export function listenFailure(code: string | undefined, host: string, port: number): StartupError {
  const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(`listen EADDRINUSE: ${at} is already in use`, code);
    case 'EACCES':
      return new StartupError(`listen EACCES: no permission to listen on ${at} (ports below 1024 need privileges)`, code);
    case 'EADDRNOTAVAIL':
      return new StartupError(`listen EADDRNOTAVAIL: ${host} is not an address of this machine`, code);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError(`listen ${code}: the host name ${host} does not resolve`, code);
    default:
      return new StartupError(`listen ${code && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : 'failed'}: cannot listen on ${at}`, code);
  }
}
