// Gradebook read routes. Unlike rostering, nested routes answer 404 unknownobject for an
// unknown parent: the 1.2 gradebook OpenAPI lists 404 for them, and 1.1 servers agree.

import { SandboxError } from './errors.js';
import type { CollectionName } from './records.js';
import { idsList, listOf, oneOf } from './routes-rostering.js';
import { param, route, type Route, type RouteContext, type RouteResult } from './route-types.js';
import type { SandboxVersion } from './types.js';

const g = (pattern: string, handle: (ctx: RouteContext) => RouteResult): Route => route('GET', 'gradebook', pattern, handle);

export function requireRecord(ctx: RouteContext, collection: CollectionName, name: string, label: string): string {
  const id = param(ctx, name);
  if (!ctx.store.has(collection, id)) throw new SandboxError('unknownObject', `${label} ${id} not found`);
  return id;
}

function lineItemIdsOfClass(ctx: RouteContext, classId: string): Set<string> {
  return new Set((ctx.store.groupBy('lineItems', 'classId').get(classId) ?? []).map((li) => li.sourcedId));
}

function resultsOfClass(ctx: RouteContext, extra?: (r: { studentId: string; lineItemId: string }) => boolean): RouteResult {
  const classId = requireRecord(ctx, 'classes', 'classId', 'class');
  const items = lineItemIdsOfClass(ctx, classId);
  return listOf(ctx, 'results', 'results', (r) => items.has(r.lineItemId) && (extra === undefined || extra(r)));
}

const common: readonly Route[] = [
  g('/categories', (c) => listOf(c, 'categories', 'categories')),
  g('/categories/:id', (c) => oneOf(c, 'categories', 'category')),
  g('/lineItems', (c) => listOf(c, 'lineItems', 'lineItems')),
  g('/lineItems/:id', (c) => oneOf(c, 'lineItems', 'lineItem')),
  g('/results', (c) => listOf(c, 'results', 'results')),
  g('/results/:id', (c) => oneOf(c, 'results', 'result')),
  g('/classes/:classId/lineItems', (c) => {
    const classId = requireRecord(c, 'classes', 'classId', 'class');
    return listOf(c, 'lineItems', 'lineItems', (li) => li.classId === classId);
  }),
  g('/classes/:classId/results', (c) => resultsOfClass(c)),
  g('/classes/:classId/lineItems/:lineItemId/results', (c) => {
    const lineItemId = requireRecord(c, 'lineItems', 'lineItemId', 'lineItem');
    return resultsOfClass(c, (r) => r.lineItemId === lineItemId);
  }),
  g('/classes/:classId/students/:studentId/results', (c) => {
    const studentId = requireRecord(c, 'users', 'studentId', 'student');
    return resultsOfClass(c, (r) => r.studentId === studentId);
  }),
];

const v1p2Only: readonly Route[] = [
  g('/scoreScales', (c) => listOf(c, 'scoreScales', 'scoreScales')),
  g('/scoreScales/:id', (c) => oneOf(c, 'scoreScales', 'scoreScale')),
  g('/assessmentLineItems', (c) => listOf(c, 'assessmentLineItems', 'assessmentLineItems')),
  g('/assessmentLineItems/:id', (c) => oneOf(c, 'assessmentLineItems', 'assessmentLineItem')),
  g('/assessmentResults', (c) => listOf(c, 'assessmentResults', 'assessmentResults')),
  g('/assessmentResults/:id', (c) => oneOf(c, 'assessmentResults', 'assessmentResult')),
  // Categories carry no class; a class's categories are those its line items use.
  g('/classes/:classId/categories', (c) => {
    const classId = requireRecord(c, 'classes', 'classId', 'class');
    const items = c.store.groupBy('lineItems', 'classId').get(classId) ?? [];
    return idsList(c, 'categories', 'categories', items.map((li) => li.categoryId));
  }),
  g('/classes/:classId/scoreScales', (c) => {
    const classId = requireRecord(c, 'classes', 'classId', 'class');
    return listOf(c, 'scoreScales', 'scoreScales', (s) => s.classId === classId);
  }),
  g('/schools/:schoolId/scoreScales', (c) => {
    const schoolId = requireRecord(c, 'orgs', 'schoolId', 'school');
    return listOf(c, 'scoreScales', 'scoreScales', (s) => c.store.get('classes', s.classId)?.schoolId === schoolId);
  }),
];

export function gradebookReadRoutes(version: SandboxVersion): readonly Route[] {
  return version === 'v1p1' ? common : [...common, ...v1p2Only];
}
