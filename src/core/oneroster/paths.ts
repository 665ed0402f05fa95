import { GatewayError } from '../errors.js';
import type { Service, Version } from './endpoints.js';

export interface OneRosterPath {
  version: Version;
  /** Set for 1.2 paths, whose service is part of the path. */
  service?: Service;
  /** Decoded path segments below the version root, e.g. ['classes', 'c 1', 'students']. */
  segments: string[];
}

const SERVICES: ReadonlySet<string> = new Set(['rostering', 'gradebook', 'resources']);

/**
 * Parses the raw (still percent-encoded) path below `/ims/oneroster`:
 * `/v1p1/...` or `/{rostering|gradebook|resources}/v1p2/...`. Undefined when it is neither.
 */
export function parseOneRosterPath(rawRest: string): OneRosterPath | undefined {
  const raw = rawRest.replace(/^\/+/, '').replace(/\/+$/, '').split('/');
  let segments: string[];
  try {
    segments = raw.map((s) => decodeURIComponent(s));
  } catch {
    throw new GatewayError('invalid_query', 'The request path has malformed percent-encoding.');
  }
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new GatewayError('invalid_query', 'The request path may not contain "." or ".." segments.');
  }
  if (segments[0] === 'v1p1') return { version: 'v1p1', segments: segments.slice(1) };
  if (segments[1] === 'v1p2' && SERVICES.has(segments[0]!)) {
    return { version: 'v1p2', service: segments[0] as Service, segments: segments.slice(2) };
  }
  return undefined;
}

/** The version root below `/ims/oneroster` for a version and service. */
export function versionRoot(version: Version, service: Service): string {
  return version === 'v1p1' ? '/v1p1' : `/${service}/v1p2`;
}
