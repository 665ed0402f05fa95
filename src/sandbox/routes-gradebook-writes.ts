// Gradebook writes. PUT creates or replaces with the client's sourcedId (1.1 answers 201
// created / 200 replaced with the stored record; 1.2 answers 201 with no body, as its
// OpenAPI documents). DELETE is a hard delete, 204. 1.2 POST routes let the server
// allocate ids and answer 201 {"sourcedIdPairs":[...]}.

import { SandboxError } from './errors.js';
import type { Json } from './render-common.js';
import { requireRecord } from './routes-gradebook.js';
import { param, route, type Route, type RouteContext, type RouteResult } from './route-types.js';
import type { SandboxVersion } from './types.js';
import { asObject, parseBody, parseWire, type WritableCollection } from './wire-parse.js';

const SINGULAR: Record<WritableCollection, string> = {
  categories: 'category', lineItems: 'lineItem', results: 'result',
  scoreScales: 'scoreScale', assessmentLineItems: 'assessmentLineItem', assessmentResults: 'assessmentResult',
};

function put(ctx: RouteContext, collection: WritableCollection): RouteResult {
  const id = param(ctx, 'id');
  const wrapper = SINGULAR[collection];
  const body = asObject(parseBody(ctx.body, wrapper), wrapper);
  const outcome = ctx.store.put(collection, parseWire(ctx.version, collection, body, id, ctx.store));
  if (ctx.version === 'v1p2') return { kind: 'raw', status: 201 };
  return { kind: 'raw', status: outcome === 'created' ? 201 : 200, body: { [wrapper]: ctx.view.get(collection, id) } };
}

function del(ctx: RouteContext, collection: WritableCollection): RouteResult {
  const id = param(ctx, 'id');
  if (!ctx.store.remove(collection, id)) throw new SandboxError('unknownObject', `${SINGULAR[collection]} ${id} not found`);
  return { kind: 'raw', status: 204 };
}

/**
 * POST a Set wrapper ({"lineItems":[...]}); ids in the path win over refs in the body.
 * Every element is validated before any is stored, so a bad element stores nothing.
 */
function post(ctx: RouteContext, collection: 'lineItems' | 'results', fromPath: Json): RouteResult {
  const items = parseBody(ctx.body, collection);
  if (!Array.isArray(items)) throw new SandboxError('invalidData', `"${collection}" must be an array`);
  const prefix = collection === 'lineItems' ? 'li' : 'res';
  const parsed = items.map((item: unknown) => {
    const element = asObject(item, SINGULAR[collection]);
    const supplied = typeof element.sourcedId === 'string' ? element.sourcedId : '';
    const allocated = ctx.allocateId(prefix);
    return { supplied, allocated, record: parseWire(ctx.version, collection, { ...element, ...fromPath }, allocated, ctx.store) };
  });
  for (const p of parsed) ctx.store.put(collection, p.record);
  return {
    kind: 'raw',
    status: 201,
    body: { sourcedIdPairs: parsed.map((p) => ({ suppliedSourcedId: p.supplied, allocatedSourcedId: p.allocated })) },
  };
}

const ref = (sourcedId: string, type: string): Json => ({ sourcedId, type });

function putDelete(collection: WritableCollection): Route[] {
  return [
    route('PUT', 'gradebook', `/${collection}/:id`, (c) => put(c, collection)),
    route('DELETE', 'gradebook', `/${collection}/:id`, (c) => del(c, collection)),
  ];
}

const v1p2Posts: readonly Route[] = [
  route('POST', 'gradebook', '/lineItems/:lineItemId/results', (c) =>
    post(c, 'results', { lineItem: ref(requireRecord(c, 'lineItems', 'lineItemId', 'lineItem'), 'lineItem') })),
  route('POST', 'gradebook', '/classes/:classId/lineItems', (c) => {
    const classId = requireRecord(c, 'classes', 'classId', 'class');
    return post(c, 'lineItems', { class: ref(classId, 'class'), school: ref(c.store.get('classes', classId)?.schoolId ?? '', 'org') });
  }),
  route('POST', 'gradebook', '/classes/:classId/academicSessions/:sessionId/results', (c) => {
    const classId = requireRecord(c, 'classes', 'classId', 'class');
    requireRecord(c, 'academicSessions', 'sessionId', 'academicSession');
    return post(c, 'results', { class: ref(classId, 'class') });
  }),
  route('POST', 'gradebook', '/schools/:schoolId/lineItems', (c) =>
    post(c, 'lineItems', { school: ref(requireRecord(c, 'orgs', 'schoolId', 'school'), 'org') })),
];

export function gradebookWriteRoutes(version: SandboxVersion): readonly Route[] {
  const basic = (['categories', 'lineItems', 'results'] as const).flatMap(putDelete);
  if (version === 'v1p1') return basic;
  const assessment = (['scoreScales', 'assessmentLineItems', 'assessmentResults'] as const).flatMap(putDelete);
  return [...basic, ...assessment, ...v1p2Posts];
}
