import { tagsForRoute } from '../core/oneroster/cache-tags.js';
import { GatewayError } from '../core/errors.js';
import { readFilter } from '../core/oneroster/filter-fields.js';
import { matchEndpoint, type Endpoint } from '../core/oneroster/endpoints.js';
import { parseOneRosterPath, type OneRosterPath } from '../core/oneroster/paths.js';
import { parseRawQuery, readPageQuery, type PageQuery } from '../core/oneroster/query.js';
import { readFields, readSort } from '../core/oneroster/selection.js';

/** What a OneRoster URL means, independent of who asks: parsed once per distinct URL. */
export interface RoutePlan {
  path: OneRosterPath;
  endpoint: Endpoint;
  params: string[];
  query: PageQuery;
  /** Route template for logs, e.g. "v1p1 GET /classes/{id}/students". */
  route: string;
  tags: string[];
}

export function buildRoutePlan(method: string, rawRest: string, rawQuery: string): RoutePlan {
  const path = parseOneRosterPath(rawRest);
  if (!path) throw new GatewayError('unknown_endpoint', 'Not a OneRoster path: use /ims/oneroster/v1p1/... or /ims/oneroster/{rostering|gradebook|resources}/v1p2/...');
  const match = matchEndpoint(path.version, path.service, method, path.segments);
  if (!match.ok) {
    if (match.reason === 'method_not_allowed') {
      throw new GatewayError('method_not_allowed', `Method ${method} is not allowed here; allowed: ${match.allowed.join(', ')}.`, {
        headers: { allow: match.allowed.join(', ') },
      });
    }
    throw new GatewayError('unknown_endpoint', `There is no OneRoster ${path.version} endpoint at this path.`);
  }
  const { endpoint, params } = match;
  const query = readPageQuery(endpoint.kind, parseRawQuery(rawQuery));
  checkNames(path, endpoint, query);
  return {
    path,
    endpoint,
    params,
    query,
    route: `${path.version}${path.service ? `/${path.service}` : ''} ${endpoint.method} ${endpoint.template}`,
    tags: tagsForRoute(endpoint, params),
  };
}

/**
 * Every name a query gives (filter, sort, fields) is checked here against the PATH version's
 * model, whatever the district speaks, so a bad name is the same 400 for every district and
 * reaches none (core/oneroster/filter-fields.ts, selection.ts say what each may name).
 * readPageQuery kept only what the endpoint accepts: a single-object GET has no sort.
 */
function checkNames(path: OneRosterPath, endpoint: Endpoint, query: PageQuery): void {
  const get = (name: string) => query.params.find(([k]) => k === name)?.[1];
  const filter = get('filter');
  if (filter !== undefined) query.filter = readFilter(path.version, endpoint.wrapper, filter);
  const sort = get('sort');
  if (sort !== undefined) readSort(path.version, endpoint.wrapper, sort);
  const fields = get('fields');
  if (fields !== undefined) {
    // The district is sent the list as checked: the cache key already treats `b, a,b` as `a,b`.
    const list = readFields(path.version, endpoint.wrapper, fields).join(',');
    query.params = query.params.map(([k, v]) => [k, k === 'fields' ? list : v]);
  }
}

/**
 * Plans of recent GET URLs. Sync jobs and dashboards ask for the same pages again and
 * again; parsing, matching and canonicalizing once per URL keeps the hit path short.
 * Bounded, oldest first out. Only successful plans are kept; errors are rebuilt each time.
 */
export function createRoutePlanCache(max = 5_000) {
  const plans = new Map<string, RoutePlan>();
  return {
    plan(method: string, rawRest: string, rawQuery: string): RoutePlan {
      if (method !== 'GET') return buildRoutePlan(method, rawRest, rawQuery);
      const key = `${rawRest}?${rawQuery}`;
      let plan = plans.get(key);
      if (!plan) {
        plan = buildRoutePlan(method, rawRest, rawQuery);
        if (plans.size >= max) plans.delete(plans.keys().next().value!);
        plans.set(key, plan);
      }
      return plan;
    },
  };
}
