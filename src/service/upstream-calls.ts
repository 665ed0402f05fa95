import { GatewayError } from '../core/errors.js';
import { unescapedJson } from '../core/json/unescape.js';
import { rewriteHrefs } from '../core/oneroster/hrefs.js';
import { versionRoot } from '../core/oneroster/paths.js';
import type { QueryPairs } from '../core/oneroster/query.js';
import { encodeRfc3986 } from '../core/rfc3986.js';
import type { UpstreamRequest, UpstreamResponse } from '../upstream/types.js';
import { readPage, type UpstreamPage } from './paging.js';
import type { ProxyRequest, ProxyResponse } from './proxy-types.js';
import { badContentReason, fromUpstreamFailure, fromUpstreamStatus, parseJson } from './upstream-errors.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * One client request's upstream calls, run by `fn`: counted and timed for the access log, and
 * their answers' bytes held on the district's ledger until `fn` is done with them.
 */
export async function withUpstreamCalls<T>(req: ProxyRequest, fn: (calls: UpstreamCalls) => Promise<T>): Promise<T> {
  const calls = new UpstreamCalls(req);
  try {
    return await fn(calls);
  } finally {
    calls.release();
  }
}

/** One client request's upstream calls, counted and timed for the access log. */
export class UpstreamCalls {
  count = 0;
  ms = 0;
  private held = 0;
  private readonly path: string;

  constructor(private readonly req: ProxyRequest) {
    const { district, endpoint, segments } = req;
    this.path = versionRoot(district.version, endpoint.service) + '/' + segments.map(encodeRfc3986).join('/');
  }

  /** The request's own endpoint, or a GET of `path` (below the OneRoster root) for a lookup. */
  async send(query: QueryPairs, body?: string, path?: string): Promise<UpstreamResponse> {
    const { district, endpoint, signal, requestId } = this.req;
    const u: UpstreamRequest = {
      method: path === undefined ? endpoint.method : 'GET',
      path: path ?? this.path,
      query,
      headers: { 'x-request-id': requestId },
    };
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
    if (res.status < 200 || res.status >= 300) throw fromUpstreamStatus(res, district.id, district.redactor);
    if (!district.held.take(res.body.length)) {
      throw new GatewayError('upstream_busy', `District "${district.id}" is busy (too many bytes of its answers held at once); retry later.`, {
        headers: { 'retry-after': '1' },
      });
    }
    this.held += res.body.length;
    return res;
  }

  /** Gives back what this request's answers held (once the client's answer is built, or it failed). */
  release(): void {
    this.req.district.held.release(this.held);
    this.held = 0;
  }

  /**
   * The answer to the client. Last stop for anything of the district's: a body that still
   * holds one of its credentials, hosts or vendor paths (in a field no href rule touched, a
   * vendor's metadata, an id) has it redacted before it can be cached or sent.
   */
  response(status: number, body: Buffer | string | null, headers: Record<string, string> = {}, roots?: readonly number[]): ProxyResponse {
    return {
      status,
      headers: body === null ? headers : { 'content-type': JSON_TYPE, ...headers },
      body: body === null ? null : redactBody(body, this.req, roots),
      upstreamRequests: this.count,
      upstreamMs: this.ms,
    };
  }
}

/** `roots`: where the gateway's own root (req.hrefBase) stands in a body it just re-rooted. */
function redactBody(body: Buffer | string, req: ProxyRequest, roots?: readonly number[]): Buffer | string {
  const { redactor } = req.district;
  // Bytes are searched as bytes first: a page that holds none of the district's secrets, hosts
  // or paths (nearly all of them) is not decoded at all. Not a page with JSON escapes: it says
  // more than its bytes show (`\/aeries`, `\u0073is.example.org`), so it is searched decoded.
  if (typeof body !== 'string' && !body.includes(0x5c) && !redactor.mayHold(body, req.hrefBase, roots)) return body;
  const text = typeof body === 'string' ? body : body.toString('utf8');
  // The gateway's own hrefs may share the district's host (both on loopback, or one name):
  // they are not the district's address, and must not send every page down the slow path.
  // Only the whole root is set aside: an origin alone is the client's to choose
  // (X-Forwarded-Host), and naming the district's host must not switch redaction off.
  if (!redactor.test(unescapedJson(text).replaceAll(req.hrefBase, ''))) return body;
  const parsed = parseJson(Buffer.from(text));
  if (!parsed.ok) return redactor.redact(text);
  rewriteHrefs(parsed.value, { upstreamBase: req.district.upstreamBase, gatewayBase: req.hrefBase, redactor }, true);
  return JSON.stringify(parsed.value);
}

/** A 2xx read body as a JSON object, or a 502 saying what it was instead. */
export function readJsonObject(res: UpstreamResponse, districtId: string): Record<string, unknown> {
  const bad = badContentReason(res);
  if (bad) throw new GatewayError('upstream_bad_response', `District "${districtId}" answered with ${bad} instead of JSON.`);
  const parsed = parseJson(res.body);
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
    throw new GatewayError('upstream_bad_response', `District "${districtId}" answered with a body that is not a JSON object.`);
  }
  return parsed.value as Record<string, unknown>;
}

export function readListPage(res: UpstreamResponse, req: ProxyRequest): UpstreamPage {
  const page = readPage(res, readJsonObject(res, req.district.id), req.endpoint.wrapper);
  if (!page) throw new GatewayError('upstream_bad_response', `District "${req.district.id}" answered without a "${req.endpoint.wrapper}" list.`);
  return page;
}

