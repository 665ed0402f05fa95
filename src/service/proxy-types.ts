// What the proxy service is asked and answers: one OneRoster call as the service layer sees
// it. Apart from the services, so those that answer it (bridge, derived reads, local query)
// and the one that dispatches to them do not import each other in a circle.
import type { Endpoint, Service, Version } from '../core/oneroster/endpoints.js';
import type { PageQuery } from '../core/oneroster/query.js';
import type { District } from '../districts/districts.js';

export interface ProxyRequest {
  district: District;
  /** The version the caller asked for, from the path. */
  version: Version;
  service: Service;
  endpoint: Endpoint;
  /** Decoded path segments below the version root. */
  segments: readonly string[];
  query: PageQuery;
  body?: string;
  requestId: string;
  /** Absolute gateway URL of this resource, without query; base of Link headers. */
  linkBase: string;
  /** The gateway's URL of the district's OneRoster root; upstream hrefs are re-rooted here. */
  hrefBase: string;
  signal?: AbortSignal;
}

export interface ProxyResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string | null;
  upstreamRequests: number;
  upstreamMs: number;
}

export interface ProxyService {
  handle(req: ProxyRequest): Promise<ProxyResponse>;
}
