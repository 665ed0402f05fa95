// Matches request paths against the route table. Patterns are split into segments once;
// matching is exact (no trailing-slash or case folding) so client URL bugs show up as 404.

import { serviceBase } from './hrefs.js';
import type { Method, Route } from './route-types.js';
import type { SandboxVersion } from './types.js';

interface Compiled {
  route: Route;
  segments: string[];
}

export type Match =
  | { kind: 'route'; route: Route; params: Record<string, string> }
  | { kind: 'method'; allow: Method[] }
  | { kind: 'none' };

export class Router {
  private readonly compiled: Compiled[];

  constructor(version: SandboxVersion, routes: readonly Route[]) {
    this.compiled = routes.map((route) => ({
      route,
      segments: `${serviceBase(version, route.service)}${route.pattern}`.split('/'),
    }));
  }

  match(method: string, path: string): Match {
    const segments = path.split('/');
    const allow: Method[] = [];
    for (const c of this.compiled) {
      const params = matchSegments(c.segments, segments);
      if (!params) continue;
      if (c.route.method === method) return { kind: 'route', route: c.route, params };
      allow.push(c.route.method);
    }
    return allow.length > 0 ? { kind: 'method', allow } : { kind: 'none' };
  }
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | null {
  if (pattern.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const a = actual[i] as string;
    if (p.startsWith(':')) {
      if (a === '') return null;
      try {
        params[p.slice(1)] = decodeURIComponent(a);
      } catch {
        return null;
      }
    } else if (p !== a) {
      return null;
    }
  }
  return params;
}
