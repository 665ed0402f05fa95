import { matchEndpoint } from './endpoints.js';
import { parseOneRosterPath } from './paths.js';

/**
 * The route template of a path below a district's OneRoster root, in the shape of the
 * gateway's route labels (`v1p1 GET /classes/{id}/students`, `v1p2/rostering GET /users`):
 * what a log line may say of a request, where the path itself would carry sourcedIds and
 * the query filter values. A path the registry does not know is `(other)`, never itself.
 */
export function routeTemplate(method: string, path: string): string {
  let parsed;
  try {
    parsed = parseOneRosterPath(path);
  } catch {
    parsed = undefined;
  }
  if (!parsed) return `${method} (other)`;
  const root = `${parsed.version}${parsed.service ? `/${parsed.service}` : ''}`;
  const match = matchEndpoint(parsed.version, parsed.service, method, parsed.segments);
  return `${root} ${method} ${match.ok ? match.endpoint.template : '(other)'}`;
}
