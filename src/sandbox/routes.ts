// The route table per version: 1.1 serves everything under /v1p1; 1.2 splits services.

import type { Route } from './route-types.js';
import { gradebookReadRoutes } from './routes-gradebook.js';
import { gradebookWriteRoutes } from './routes-gradebook-writes.js';
import { resourceRoutes } from './routes-resources.js';
import { rosteringRoutes } from './routes-rostering.js';
import type { SandboxVersion } from './types.js';

export function routesFor(version: SandboxVersion): readonly Route[] {
  return [...rosteringRoutes, ...gradebookReadRoutes(version), ...gradebookWriteRoutes(version), ...resourceRoutes(version)];
}
