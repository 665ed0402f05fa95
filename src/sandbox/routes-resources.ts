// Resources service. Nested routes answer 404 for an unknown parent (the 1.2 resources
// OpenAPI lists 404 on every GET). /users/{id}/resources exists only in 1.2.

import { requireRecord } from './routes-gradebook.js';
import { idsList, listOf, oneOf } from './routes-rostering.js';
import { route, type Route, type RouteContext, type RouteResult } from './route-types.js';
import type { SandboxVersion } from './types.js';

const r = (pattern: string, handle: (ctx: RouteContext) => RouteResult): Route => route('GET', 'resources', pattern, handle);

const common: readonly Route[] = [
  r('/resources', (c) => listOf(c, 'resources', 'resources')),
  r('/resources/:id', (c) => oneOf(c, 'resources', 'resource')),
  r('/courses/:courseId/resources', (c) => {
    const id = requireRecord(c, 'courses', 'courseId', 'course');
    return idsList(c, 'resources', 'resources', c.store.get('courses', id)?.resourceIds ?? []);
  }),
  r('/classes/:classId/resources', (c) => {
    const id = requireRecord(c, 'classes', 'classId', 'class');
    return idsList(c, 'resources', 'resources', c.store.get('classes', id)?.resourceIds ?? []);
  }),
];

const usersResources = r('/users/:userId/resources', (c) => {
  const id = requireRecord(c, 'users', 'userId', 'user');
  return idsList(c, 'resources', 'resources', c.store.get('users', id)?.resourceIds ?? []);
});

export function resourceRoutes(version: SandboxVersion): readonly Route[] {
  return version === 'v1p1' ? common : [...common, usersResources];
}
