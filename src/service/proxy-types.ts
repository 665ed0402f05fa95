// What the proxy service is asked and answers: one OneRoster call as the service layer sees
// it. Apart from the services, so those that answer it (bridge, derived reads, local query)
// and the one that dispatches to them do not import each other in a circle.
import type { Endpoint, Service, Version } from '../core/oneroster/endpoints.js';
import type { PageQuery } from '../core/oneroster/query.js';
import type { District } from '../districts/districts.js';
import type { AdmissionCaller } from './client-admission.js';

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
  /** Built from cached data served stale (the district failed): not to be kept as fresh. */
  stale?: boolean;
  /** Built from cached data fresh this much longer: kept fresh no longer than that. */
  freshForMs?: number;
}

export interface ProxyService {
  handle(req: ProxyRequest): Promise<ProxyResponse>;
}

/** A read or write as the cached proxy takes it (service/cached-proxy.ts): the request and what its cache entry is keyed and tagged by. */
export interface CachedProxyRequest extends ProxyRequest {
  /** The resource's canonical path below the gateway (district form, no origin): the cache key's resource. */
  resource: string;
  /**
   * Where links start in the form the client used: `{origin}/ims/oneroster` (district from the
   * X-District-Id header or the client) or `{origin}/districts/{id}/ims/oneroster`. Answers are
   * built and cached on `hrefBase` (the district form) and re-pointed here on the way out.
   */
  clientRoot: string;
  /** Ids in the path, in order (for cache tags). */
  params: readonly string[];
  /** The client sent Cache-Control: no-cache and may force a refresh. */
  noCache: boolean;
  /** The parsed write body, for the tags a write invalidates. */
  parsedBody?: unknown;
  /** The route's cache tags, when the caller already has them (they depend only on the URL). */
  tags?: string[];
  /**
   * A client with a rate limit: the proxy's admission (CachedProxyOptions.admission) is asked
   * once, when it is known whether the answer comes from the cache (`hit`, stale included) or
   * from the district (`miss`), before the district is asked.
   */
  caller?: AdmissionCaller;
}
