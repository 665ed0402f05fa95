// What a route sees and what it answers. Routes pick store records (pre-filter); the
// dispatcher renders, applies the query parameters, wraps and pages in one place.

import type { AnyRecord, CollectionName } from './records.js';
import type { RenderedView } from './rendered-view.js';
import type { SandboxStore } from './store.js';
import type { SandboxVersion } from './types.js';

export interface RouteContext {
  version: SandboxVersion;
  view: RenderedView;
  store: SandboxStore;
  params: Readonly<Record<string, string>>;
  body: string;
  /** A fresh server-allocated sourcedId for POST-created records. */
  allocateId(prefix: string): string;
}

export type RouteResult =
  /** Store records in sourcedId order, before filter/sort/paging. */
  | { kind: 'list'; collection: CollectionName; wrapper: string; records: readonly AnyRecord[] }
  | { kind: 'one'; collection: CollectionName; wrapper: string; record: AnyRecord }
  | { kind: 'raw'; status: number; body?: unknown };

export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';
export type Service = 'rostering' | 'gradebook' | 'resources';

export interface Route {
  method: Method;
  service: Service;
  /** Relative to the service base, with `:name` segments, e.g. '/classes/:classId/students'. */
  pattern: string;
  handle(ctx: RouteContext): RouteResult;
}

export function route(method: Method, service: Service, pattern: string, handle: (ctx: RouteContext) => RouteResult): Route {
  return { method, service, pattern, handle };
}

export function param(ctx: RouteContext, name: string): string {
  const v = ctx.params[name];
  if (v === undefined) throw new Error(`route has no :${name}`);
  return v;
}
