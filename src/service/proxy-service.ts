import { withoutPaging } from '../core/oneroster/query.js';
import { rewriteHrefs, type HrefRewrite } from '../core/oneroster/hrefs.js';
import { byteRewrite } from '../core/oneroster/href-bytes.js';
import { isWholePage, readPageBytes } from './page-bytes.js';
import type { ProxyRequest, ProxyResponse, ProxyService } from './proxy-types.js';
import { stitchPages, type UpstreamPage } from './paging.js';
import { parseJson } from './upstream-errors.js';
import { readJsonObject, readListPage, withUpstreamCalls, type UpstreamCalls } from './upstream-calls.js';
import type { VersionBridge } from './version-bridge.js';

export type { ProxyRequest, ProxyResponse, ProxyService } from './proxy-types.js';

/** Upstream bytes go out unchanged unless an href had to be re-rooted or pages were joined. */
function serialize(raw: Buffer, value: unknown, rewrite: HrefRewrite, force = false): Buffer | string {
  return rewriteHrefs(value, rewrite) || force ? JSON.stringify(value) : raw;
}

/** Forwards one OneRoster call to its district, assembling full pages from short upstream pages. */
export function createProxyService(options: { bridge: VersionBridge }): ProxyService {
  if (!options?.bridge) throw new Error('createProxyService: bridge is required');
  const { bridge } = options;
  return {
    async handle(req) {
      if (req.version !== req.district.version) return bridge.handle(req);
      return withUpstreamCalls(req, (calls) => passThrough(calls, req));
    },
  };
}

/** The district speaks the caller's version: its answer goes out as sent, hrefs re-rooted, short pages joined. */
async function passThrough(calls: UpstreamCalls, req: ProxyRequest): Promise<ProxyResponse> {
  const { district, endpoint } = req;
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

  const others = withoutPaging(req.query.params);
  const stitch = (page: UpstreamPage) => stitchPages({
    first: page,
    query: req.query,
    maxPages: district.maxStitchPages,
    // One client page may not cost more memory than one upstream answer may.
    maxBytes: district.maxBodyBytes,
    districtId: district.id,
    fetchPage: async (offset, limit) => readListPage(await calls.send([...others, ['limit', String(limit)], ['offset', String(offset)]]), req),
    linkBase: req.linkBase,
  });
  // The common page goes out as the district's bytes, hrefs re-rooted, its headers built as a
  // stitched page's (it needs no other page, so none is read).
  const bytes = readPageBytes(first, endpoint.wrapper, byteRewrite(rewrite));
  if (bytes && isWholePage(bytes.page, req.query)) {
    const { headers } = await stitch(bytes.page);
    // From here on `first.body` may have been rewritten where it lies: only `body` is read.
    const { body, roots } = bytes.write();
    return calls.response(200, body, headers, roots);
  }

  const page = readListPage(first, req);
  const result = await stitch(page);
  // A vendor wrapper (`students`, `terms`) goes out under the spec's key.
  const envelope = { ...page.envelope };
  const renamed = page.key !== endpoint.wrapper;
  if (renamed) delete envelope[page.key];
  envelope[endpoint.wrapper] = result.records;
  return calls.response(200, serialize(first.body, envelope, rewrite, result.changed || renamed), result.headers);
}
