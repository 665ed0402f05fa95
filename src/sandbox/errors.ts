// Error bodies in each version's own shape. 1.2 follows the OpenAPI imsx_StatusInfoDType
// (capital C in imsx_CodeMinor, values without spaces); 1.1 follows what 1.1 servers send:
// a statusInfoSet array with a flat, spaced codeMinor string.

import type { SandboxVersion } from './types.js';

export type ErrorCode =
  | 'unknownObject'
  | 'invalidData'
  | 'invalidFilterField'
  | 'invalidSelectionField'
  | 'unauthorized'
  | 'forbidden'
  | 'serverBusy'
  | 'internalError';

const CODE_MINOR: Record<SandboxVersion, Record<ErrorCode, string>> = {
  v1p1: {
    unknownObject: 'unknown object',
    invalidData: 'invalid data',
    invalidFilterField: 'invalid_filter_field',
    invalidSelectionField: 'invalid_selection_field',
    unauthorized: 'unauthorized',
    forbidden: 'forbidden',
    serverBusy: 'server_busy',
    internalError: 'internal_server_error',
  },
  v1p2: {
    unknownObject: 'unknownobject',
    invalidData: 'invaliddata',
    invalidFilterField: 'invalid_filter_field',
    invalidSelectionField: 'invalid_selection_field',
    unauthorized: 'unauthorisedrequest',
    forbidden: 'forbidden',
    serverBusy: 'server_busy',
    internalError: 'internal_server_error',
  },
};

/** The HTTP status that goes with each code in both versions. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  unknownObject: 404,
  invalidData: 400,
  invalidFilterField: 400,
  invalidSelectionField: 400,
  unauthorized: 401,
  forbidden: 403,
  serverBusy: 429,
  internalError: 500,
};

export function errorBody(version: SandboxVersion, code: ErrorCode, description: string): unknown {
  const codeMinor = CODE_MINOR[version][code];
  if (version === 'v1p1') {
    return {
      statusInfoSet: [
        { imsx_codeMajor: 'failure', imsx_severity: 'error', imsx_codeMinor: codeMinor, imsx_description: description },
      ],
    };
  }
  return {
    imsx_codeMajor: 'failure',
    imsx_severity: 'error',
    imsx_description: description,
    imsx_CodeMinor: {
      imsx_codeMinorField: [{ imsx_codeMinorFieldName: 'TargetEndSystem', imsx_codeMinorFieldValue: codeMinor }],
    },
  };
}

/** A failure a route or query step reports; the server turns it into a response. */
export class SandboxError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number = ERROR_STATUS[code],
  ) {
    super(message);
  }
}

/** Best-fitting code for an injected status fault without a body. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 400) return 'invalidData';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'unknownObject';
  if (status === 429 || status === 503) return 'serverBusy';
  return 'internalError';
}
