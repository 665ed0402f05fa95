// A ProxyRequest for the proxy service alone (no gateway around it): a users read of district
// `big-district` at `origin` (bearer), through a real upstream client, its ledger and redactor
// as given. `cleanups` collects what must be closed after the test.
import { createByteLedger } from '../../src/core/byte-ledger.js';
import { matchEndpoint } from '../../src/core/oneroster/endpoints.js';
import { parseRawQuery, readPageQuery } from '../../src/core/oneroster/query.js';
import { NO_REDACTION, type Redactor } from '../../src/core/redact.js';
import type { District } from '../../src/districts/districts.js';
import type { ProxyRequest } from '../../src/service/proxy-service.js';
import type { VersionBridge } from '../../src/service/version-bridge.js';
import { createUpstreamClient } from '../../src/upstream/client.js';
import { district as districtConfig } from '../upstream/district.js';

export interface ProxyRequestOptions {
  /** The client's query (default `limit=100`). */
  query?: string;
  maxBodyBytes?: number;
  /** The district's ledger of answer bytes held at once. */
  heldLimit?: number;
  /** Nothing of the district needs hiding from a test's eyes, unless one is given. */
  redactor?: Redactor;
}

export function proxyRequest(origin: string, cleanups: Array<() => Promise<void>>, options: ProxyRequestOptions = {}): ProxyRequest {
  const client = createUpstreamClient(districtConfig(origin, { type: 'bearer', token: 't' }));
  cleanups.push(() => client.close());
  const match = matchEndpoint('v1p1', undefined, 'GET', ['users']);
  if (!match.ok) throw new Error('no users endpoint');
  const district = {
    id: 'big-district',
    name: 'Big',
    version: 'v1p1',
    versionSetting: 'v1p1',
    authType: 'bearer',
    source: 'config',
    upstreamBase: origin,
    maxStitchPages: 100,
    maxBodyBytes: options.maxBodyBytes ?? 32 * 1024 * 1024,
    held: createByteLedger(options.heldLimit ?? 64 * 1024 * 1024),
    upstream: client,
    redactor: options.redactor ?? NO_REDACTION,
  } as unknown as District;
  return {
    district,
    version: 'v1p1',
    service: 'rostering',
    endpoint: match.endpoint,
    segments: ['users'],
    query: readPageQuery('collection', parseRawQuery(options.query ?? 'limit=100')),
    requestId: 'r1',
    linkBase: 'https://gw/ims/oneroster/v1p1/users',
    hrefBase: 'https://gw/ims/oneroster',
  };
}

/** The version bridge of a same-version test: never used. */
export const NO_BRIDGE = {
  handle: () => {
    throw new Error('same version: the bridge is not used');
  },
} as unknown as VersionBridge;
