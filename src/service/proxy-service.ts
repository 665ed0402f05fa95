import { GatewayError } from '../core/errors.js';
import type { Endpoint, Service, Version } from '../core/oneroster/endpoints.js';
import { rewriteHrefs, type HrefRewrite } from '../core/oneroster/hrefs.js';
import { versionRoot } from '../core/oneroster/paths.js';
import type { PageQuery, QueryPairs } from '../core/oneroster/query.js';
import { encodeRfc3986 } from '../core/rfc3986.js';
import type { District } from '../routing/districts.js';
import type { UpstreamRequest, UpstreamResponse } from '../upstream/types.js';
import { readPage, stitchPages, type UpstreamPage } from './paging.js';
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

/** One client request's upstream calls, counted and timed for the access log. */
class UpstreamCalls {
  count = 0;
  ms = 0;
  private readonly path: string;

  constructor(private readonly req: ProxyRequest) {
    const { district, endpoint, segments } = req;
    this.path = versionRoot(district.version, endpoint.service) + '/' + segments.map(encodeRfc3986).join('/');
  }

  async send(query: QueryPairs, body?: string): Promise<UpstreamResponse> {
    const { district, endpoint, signal, requestId } = this.req;
    const u: UpstreamRequest = { method: endpoint.method, path: this.path, query, headers: { 'x-request-id': requestId } };
    if (body !== undefined) u.body = body;
    if (signal) u.signal = signal;
    this.count++;
    let res: UpstreamResponse;
    try {
      res = await district.upstream.request(u);
    } catch (err) {
      throw fromUpstreamFailure(err, district.id);
    }
    this.ms += res.elapsedMs;
    if (res.status < 200 || res.status >= 300) throw fromUpstreamStatus(res, district.id);
    return res;
  }

  response(status: number, body: Buffer | string | null, headers: Record<string, string> = {}): ProxyResponse {
    return {
      status,
      headers: body === null ? headers : { 'content-type': JSON_TYPE, ...headers },
      body,
      upstreamRequests: this.count,
      upstreamMs: this.ms,
    };
  }
}

/** A 2xx read body as a JSON object, or a 502 saying what it was instead. */
function readJsonObject(res: UpstreamResponse, districtId: string): Record<string, unknown> {
  const bad = badContentReason(res);
  if (bad) throw new GatewayError('upstream_bad_response', `District "${districtId}" answered with ${bad} instead of JSON.`);
  const parsed = parseJson(res.body);
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
    throw new GatewayError('upstream_bad_response', `District "${districtId}" answered with a body that is not a JSON object.`);
  }
  return parsed.value as Record<string, unknown>;
}

function readListPage(res: UpstreamResponse, req: ProxyRequest): UpstreamPage {
  const page = readPage(res, readJsonObject(res, req.district.id), req.endpoint.wrapper);
  if (!page) throw new GatewayError('upstream_bad_response', `District "${req.district.id}" answered without a "${req.endpoint.wrapper}" list.`);
  return page;
}

/** Upstream bytes go out unchanged unless an href had to be re-rooted or pages were joined. */
function serialize(raw: Buffer, value: unknown, rewrite: HrefRewrite, force = false): Buffer | string {
  return rewriteHrefs(value, rewrite) || force ? JSON.stringify(value) : raw;
}

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
      const calls = new UpstreamCalls(req);
      const rewrite: HrefRewrite = { upstreamBase: district.upstreamBase, gatewayBase: req.hrefBase };
      const first = await calls.send(req.query.params, req.body);

      if (endpoint.kind === 'write') {
        // The write happened; a body that is not JSON (some servers answer "Created") is dropped.
        const parsed = first.status === 204 || first.body.length === 0 ? { ok: false as const } : parseJson(first.body);
        return calls.response(first.status, parsed.ok ? serialize(first.body, parsed.value, rewrite) : null);
      }
      if (endpoint.kind === 'single') {
        return calls.response(first.status, serialize(first.body, readJsonObject(first, district.id), rewrite));
      }

      const page = readListPage(first, req);
      const others = req.query.params.filter(([k]) => k !== 'limit' && k !== 'offset');
      const result = await stitchPages({
        first: page,
        query: req.query,
        maxPages: district.maxStitchPages,
        fetchPage: async (offset, limit) =>
          readListPage(await calls.send([...others, ['limit', String(limit)], ['offset', String(offset)]]), req),
        linkBase: req.linkBase,
      });
      const envelope = { ...page.envelope, [page.key]: result.records };
      return calls.response(200, serialize(first.body, envelope, rewrite, result.changed), result.headers);
    },
  };
}
