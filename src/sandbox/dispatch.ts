// Turns an authorized data request into a reply: route match, route handler, then the
// query parameters, wrapper, X-Total-Count and Link headers, or a versioned error body.

import { errorBody, SandboxError } from './errors.js';
import type { Reply } from './http-io.js';
import { applyListQuery, parseFields, parseListQuery, project } from './query-list.js';
import { linkHeader } from './paging-links.js';
import { decodeForm } from './rfc3986.js';
import type { AnyRecord } from './records.js';
import type { Json } from './render-common.js';
import type { RenderedView } from './rendered-view.js';
import type { RouteContext, RouteResult } from './route-types.js';
import type { Router } from './router.js';
import type { SandboxQuirks, SandboxVersion } from './types.js';

export interface DispatchRequest {
  method: string;
  path: string;
  query: string;
  body: string;
}

export interface DispatchEnv {
  version: SandboxVersion;
  origin: string;
  router: Router;
  view: RenderedView;
  maxPageSize?: number;
  quirks?: SandboxQuirks;
  context(params: Record<string, string>, body: string): RouteContext;
}

export function dispatch(env: DispatchEnv, req: DispatchRequest): Reply {
  try {
    const match = env.router.match(req.method, req.path);
    if (match.kind === 'none') throw new SandboxError('unknownObject', `no such endpoint: ${req.method} ${req.path}`);
    if (match.kind === 'method') {
      return { status: 405, headers: { Allow: match.allow.join(', ') }, body: errorBody(env.version, 'invalidData', `${req.method} not allowed here`) };
    }
    // GET bodies are ignored, as HTTP semantics allow.
    const ctx = env.context(match.params, req.method === 'GET' ? '' : req.body);
    return render(env, req, match.route.handle(ctx));
  } catch (err) {
    if (err instanceof SandboxError) return { status: err.status, body: errorBody(env.version, err.code, err.message) };
    const message = err instanceof Error ? err.message : String(err);
    return { status: 500, body: errorBody(env.version, 'internalError', message) };
  }
}

function queryParams(raw: string): Map<string, string> {
  let pairs: [string, string][];
  try {
    pairs = decodeForm(raw);
  } catch {
    throw new SandboxError('invalidData', 'malformed percent-encoding in the query string');
  }
  const params = new Map<string, string>();
  for (const [k, v] of pairs) if (!params.has(k)) params.set(k, v); // first occurrence wins
  return params;
}

function render(env: DispatchEnv, req: DispatchRequest, result: RouteResult): Reply {
  if (result.kind === 'raw') return { status: result.status, body: result.body };
  const params = queryParams(req.query);
  const catalogue = env.view.fields(result.collection);
  const quirks = env.quirks;
  const render = (r: AnyRecord): Json => (quirks ? withQuirks(env.view.render(result.collection, r), quirks) : env.view.render(result.collection, r));
  if (result.kind === 'one') {
    return { status: 200, body: { [result.wrapper]: project(render(result.record), parseFields(params, catalogue)) } };
  }
  const wrapper = quirks?.vendorWrappers ? (VENDOR_WRAPPERS[req.path.slice(req.path.lastIndexOf('/') + 1)] ?? result.wrapper) : result.wrapper;
  const q = parseListQuery(params, catalogue, env.maxPageSize);
  const page = applyListQuery(result.records, q, render);
  return {
    status: 200,
    headers: {
      'X-Total-Count': String(page.total),
      Link: linkHeader(`${env.origin}${req.path}`, req.query, q.limit, q.offset, page.total),
    },
    body: { [wrapper]: page.items },
  };
}

const VENDOR_WRAPPERS: Record<string, string> = { students: 'students', teachers: 'teachers', terms: 'terms' };
const NULLABLE = ['metadata', 'middleName', 'identifier', 'parent', 'description'];

function withQuirks(record: Json, quirks: SandboxQuirks): Json {
  const out: Json = { ...record };
  if (quirks.nulls) for (const k of NULLABLE) if (out[k] === undefined || out[k] === '') out[k] = null;
  if (quirks.jsonBooleans) for (const k of Object.keys(out)) if (out[k] === 'true' || out[k] === 'false') out[k] = out[k] === 'true';
  return out;
}
