// admin.listen: the operators' routes (/metrics, /admin/...) on a listener of their own, for a
// private interface or port that clients cannot reach. The public listener answers 404 for them,
// and the operators' listener 404 for anything else (the health checks stay on both).
import { getPath } from 'hono/utils/url';
import { GatewayError } from '../core/errors.js';
import { errorResponse } from './error-response.js';

type Fetch = (raw: Request, env?: unknown) => Response | Promise<Response>;

/**
 * The path exactly as hono will route it (hono's own decoding: valid escapes decoded, invalid ones
 * kept), so no spelling (`/%61dmin`, a stray `%E0` further on) routes to a path the split missed.
 */
function routedPath(raw: Request): string {
  return getPath(raw);
}

export function isOpsPath(path: string): boolean {
  return path === '/metrics' || path === '/admin' || path.startsWith('/admin/');
}

const HEALTH = new Set(['/healthz', '/readyz']);

export function splitOps(fetch: Fetch): { public: Fetch; ops: Fetch } {
  const notFound = (path: string) => errorResponse(new GatewayError('not_found', 'No such route.'), path, undefined);
  return {
    public(raw, env) {
      const path = routedPath(raw);
      return isOpsPath(path) ? notFound(path) : fetch(raw, env);
    },
    ops(raw, env) {
      const path = routedPath(raw);
      return isOpsPath(path) || HEALTH.has(path) ? fetch(raw, env) : notFound(path);
    },
  };
}
