import { GatewayError } from '../core/errors.js';
import type { Endpoint, Service, Version } from '../core/oneroster/endpoints.js';
import { rewriteHrefs } from '../core/oneroster/hrefs.js';
import { versionRoot } from '../core/oneroster/paths.js';
import type { PageQuery, QueryPairs } from '../core/oneroster/query.js';
import { encodeRfc3986 } from '../core/rfc3986.js';
import type { District } from '../routing/districts.js';
import type { UpstreamRequest, UpstreamResponse } from '../upstream/types.js';
import { readPage, stitchPages } from './paging.js';
import { badContentReason, fromUpstreamFailure, fromUpstreamStatus, parseJson } from './upstream-errors.js';

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

const JSON_TYPE = 'application/json; charset=utf-8';

/** Forwards one OneRoster call to its district, assembling full pages from short upstream pages. */
export function createProxyService(): ProxyService {
  return {
    async handle(req) {
      const { district, endpoint } = req;
      if (req.version !== district.version) {
        throw new GatewayError(
          'version_not_supported',
          `District "${district.id}" speaks OneRoster ${district.version}; ${req.version} paths are not available for it yet. ` +
            `Use the ${district.version} path.`,
        );
      }
      const path = versionRoot(district.version, endpoint.service) + '/' + req.segments.map(encodeRfc3986).join('/');
      const headers = { 'x-request-id': req.requestId };
      let upstreamRequests = 0;
      let upstreamMs = 0;
      const call = async (query: QueryPairs, body?: string): Promise<UpstreamResponse> => {
        const u: UpstreamRequest = { method: endpoint.method, path, query, headers };
        if (body !== undefined) u.body = body;
        if (req.signal) u.signal = req.signal;
        upstreamRequests++;
        try {
          const res = await district.upstream.request(u);
          upstreamMs += res.elapsedMs;
          return res;
        } catch (err) {
          throw fromUpstreamFailure(err, district.id);
        }
      };

      const first = await call(req.query.params, req.body);
      if (first.status < 200 || first.status >= 300) throw fromUpstreamStatus(first, district.id);
      const done = (status: number, body: Buffer | string | null, extra: Record<string, string> = {}): ProxyResponse => ({
        status,
        headers: body === null ? extra : { 'content-type': JSON_TYPE, ...extra },
        body,
        upstreamRequests,
        upstreamMs,
      });

      const rewrite = { upstreamBase: district.upstreamBase, gatewayBase: req.hrefBase };
      // Upstream bytes go out unchanged unless an href had to be re-rooted or pages were joined.
      const reserialize = (raw: Buffer, value: unknown, force = false) =>
        rewriteHrefs(value, rewrite) || force ? JSON.stringify(value) : raw;

      if (endpoint.kind === 'write') {
        if (first.body.length === 0 || first.status === 204) return done(first.status, null);
        const parsed = parseJson(first.body);
        if (!parsed.ok) throw new GatewayError('upstream_bad_response', `District "${district.id}" answered the write with a body that is not JSON.`);
        return done(first.status, reserialize(first.body, parsed.value));
      }

      const bad = badContentReason(first);
      if (bad) throw new GatewayError('upstream_bad_response', `District "${district.id}" answered with ${bad} instead of JSON.`);
      const parsed = parseJson(first.body);
      if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
        throw new GatewayError('upstream_bad_response', `District "${district.id}" answered with a body that is not a JSON object.`);
      }
      if (endpoint.kind === 'single') return done(first.status, reserialize(first.body, parsed.value));

      const page = readPage(first, parsed.value as Record<string, unknown>, endpoint.wrapper);
      if (!page) throw new GatewayError('upstream_bad_response', `District "${district.id}" answered without a "${endpoint.wrapper}" list.`);
      const result = await stitchPages({
        first: page,
        query: req.query,
        maxPages: district.maxStitchPages,
        fetchPage: async (offset, limit) => {
          const params = req.query.params.filter(([k]) => k !== 'limit' && k !== 'offset');
          const res = await call([...params, ['limit', String(limit)], ['offset', String(offset)]]);
          if (res.status < 200 || res.status >= 300) throw fromUpstreamStatus(res, district.id);
          const p = parseJson(res.body);
          const next = p.ok && p.value && typeof p.value === 'object' ? readPage(res, p.value as Record<string, unknown>, endpoint.wrapper) : undefined;
          if (!next) throw new GatewayError('upstream_bad_response', `District "${district.id}" answered a page without a "${endpoint.wrapper}" list.`);
          return next;
        },
        linkBase: req.linkBase,
      });
      const envelope = { ...page.envelope, [page.key]: result.records };
      return done(200, reserialize(first.body, envelope, result.pages > 1), result.headers);
    },
  };
}
