import type { Scope } from './scopes.js';

// Every OneRoster 1.1 and 1.2 REST endpoint the gateway serves, with the scopes that
// allow it (1EdTech 1.2 OpenAPI securitySchemes, applied to 1.1 too) and its wrapper key.

export type Version = 'v1p1' | 'v1p2';
export type Service = 'rostering' | 'gradebook' | 'resources';
export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';
export type EndpointKind = 'collection' | 'single' | 'write';

export interface Endpoint {
  readonly method: Method;
  readonly template: string;
  readonly segments: readonly string[];
  readonly service: Service;
  readonly kind: EndpointKind;
  /** Top-level JSON key of the response (request body for PUT). */
  readonly wrapper: string;
  /** Any one of these scopes allows the call. */
  readonly scopes: readonly Scope[];
  readonly versions: readonly Version[];
  /**
   * Districts of these versions lack the route, but the gateway derives its answer from
   * their data instead of answering 501 (service/derived-reads.ts says how).
   */
  readonly derivedOn?: readonly Version[];
}

const ROSTER_CORE: Scope[] = ['roster.readonly', 'roster-core.readonly'];
const ROSTER: Scope[] = ['roster.readonly'];
const DEMOGRAPHICS: Scope[] = ['roster-demographics.readonly'];
const GB_CORE: Scope[] = ['gradebook.readonly', 'gradebook-core.readonly'];
const GB: Scope[] = ['gradebook.readonly'];
const GB_PUT: Scope[] = ['gradebook.createput'];
const GB_POST: Scope[] = ['gradebook.createpost'];
const GB_DELETE: Scope[] = ['gradebook.delete'];
const AS_READ: Scope[] = ['assessment.readonly'];
const AS_PUT: Scope[] = ['assessment.createput'];
const AS_DELETE: Scope[] = ['assessment.delete'];
const RES_CORE: Scope[] = ['resource.readonly', 'resource-core.readonly'];
const RES: Scope[] = ['resource.readonly'];

const BOTH: Version[] = ['v1p1', 'v1p2'];
const V12: Version[] = ['v1p2'];
/** Served on a 1.1 district from its 1.1 data. */
const FROM_V11: Version[] = ['v1p1'];

type Row = [Method, string, string, Scope[], Version[]?, Version[]?];

const ROSTERING: Row[] = [
  ['GET', '/academicSessions', 'academicSessions', ROSTER_CORE],
  ['GET', '/academicSessions/{id}', 'academicSession', ROSTER_CORE],
  ['GET', '/classes', 'classes', ROSTER_CORE],
  ['GET', '/classes/{id}', 'class', ROSTER_CORE],
  ['GET', '/classes/{id}/students', 'users', ROSTER],
  ['GET', '/classes/{id}/teachers', 'users', ROSTER],
  ['GET', '/courses', 'courses', ROSTER_CORE],
  ['GET', '/courses/{id}', 'course', ROSTER_CORE],
  ['GET', '/courses/{id}/classes', 'classes', ROSTER],
  ['GET', '/demographics', 'demographics', DEMOGRAPHICS],
  ['GET', '/demographics/{id}', 'demographics', DEMOGRAPHICS],
  ['GET', '/enrollments', 'enrollments', ROSTER_CORE],
  ['GET', '/enrollments/{id}', 'enrollment', ROSTER_CORE],
  ['GET', '/gradingPeriods', 'academicSessions', ROSTER_CORE],
  ['GET', '/gradingPeriods/{id}', 'academicSession', ROSTER_CORE],
  ['GET', '/orgs', 'orgs', ROSTER_CORE],
  ['GET', '/orgs/{id}', 'org', ROSTER_CORE],
  ['GET', '/schools', 'orgs', ROSTER_CORE],
  ['GET', '/schools/{id}', 'org', ROSTER_CORE],
  ['GET', '/schools/{id}/classes', 'classes', ROSTER],
  ['GET', '/schools/{id}/classes/{id}/enrollments', 'enrollments', ROSTER],
  ['GET', '/schools/{id}/classes/{id}/students', 'users', ROSTER],
  ['GET', '/schools/{id}/classes/{id}/teachers', 'users', ROSTER],
  ['GET', '/schools/{id}/courses', 'courses', ROSTER],
  ['GET', '/schools/{id}/enrollments', 'enrollments', ROSTER],
  ['GET', '/schools/{id}/students', 'users', ROSTER],
  ['GET', '/schools/{id}/teachers', 'users', ROSTER],
  ['GET', '/schools/{id}/terms', 'academicSessions', ROSTER],
  ['GET', '/students', 'users', ROSTER_CORE],
  ['GET', '/students/{id}', 'user', ROSTER_CORE],
  ['GET', '/students/{id}/classes', 'classes', ROSTER],
  ['GET', '/teachers', 'users', ROSTER_CORE],
  ['GET', '/teachers/{id}', 'user', ROSTER_CORE],
  ['GET', '/teachers/{id}/classes', 'classes', ROSTER],
  ['GET', '/terms', 'academicSessions', ROSTER_CORE],
  ['GET', '/terms/{id}', 'academicSession', ROSTER_CORE],
  ['GET', '/terms/{id}/classes', 'classes', ROSTER],
  ['GET', '/terms/{id}/gradingPeriods', 'academicSessions', ROSTER],
  ['GET', '/users', 'users', ROSTER_CORE],
  ['GET', '/users/{id}', 'user', ROSTER_CORE],
  ['GET', '/users/{id}/classes', 'classes', ROSTER],
];

const RESOURCES: Row[] = [
  ['GET', '/resources', 'resources', RES_CORE],
  ['GET', '/resources/{id}', 'resource', RES_CORE],
  ['GET', '/courses/{id}/resources', 'resources', RES],
  ['GET', '/classes/{id}/resources', 'resources', RES],
  // Only 1.2 defines it (reference §1.3); 1.1 servers answer 404. On a 1.1 district it is
  // the resources of the user's classes and of their courses.
  ['GET', '/users/{id}/resources', 'resources', RES, V12, FROM_V11],
];

const GRADEBOOK: Row[] = [
  ['GET', '/categories', 'categories', GB_CORE],
  ['GET', '/categories/{id}', 'category', GB_CORE],
  ['PUT', '/categories/{id}', 'category', GB_PUT],
  ['DELETE', '/categories/{id}', 'category', GB_DELETE],
  ['GET', '/lineItems', 'lineItems', GB_CORE],
  ['GET', '/lineItems/{id}', 'lineItem', GB_CORE],
  ['PUT', '/lineItems/{id}', 'lineItem', GB_PUT],
  ['DELETE', '/lineItems/{id}', 'lineItem', GB_DELETE],
  ['POST', '/lineItems/{id}/results', 'results', GB_POST, V12],
  ['GET', '/results', 'results', GB_CORE],
  ['GET', '/results/{id}', 'result', GB_CORE],
  ['PUT', '/results/{id}', 'result', GB_PUT],
  ['DELETE', '/results/{id}', 'result', GB_DELETE],
  ['GET', '/scoreScales', 'scoreScales', GB_CORE, V12],
  ['GET', '/scoreScales/{id}', 'scoreScale', GB_CORE, V12],
  ['PUT', '/scoreScales/{id}', 'scoreScale', GB_PUT, V12],
  ['DELETE', '/scoreScales/{id}', 'scoreScale', GB_DELETE, V12],
  // On a 1.1 district: the categories the class's line items use, and any tied to the class.
  ['GET', '/classes/{id}/categories', 'categories', GB, V12, FROM_V11],
  ['GET', '/classes/{id}/lineItems', 'lineItems', GB],
  ['POST', '/classes/{id}/lineItems', 'lineItems', GB_POST, V12],
  ['GET', '/classes/{id}/lineItems/{id}/results', 'results', GB],
  ['GET', '/classes/{id}/results', 'results', GB],
  ['GET', '/classes/{id}/scoreScales', 'scoreScales', GB, V12],
  ['GET', '/classes/{id}/students/{id}/results', 'results', GB],
  ['POST', '/classes/{id}/academicSessions/{id}/results', 'results', GB_POST, V12],
  ['POST', '/schools/{id}/lineItems', 'lineItems', GB_POST, V12],
  ['GET', '/schools/{id}/scoreScales', 'scoreScales', GB, V12],
  ['GET', '/assessmentLineItems', 'assessmentLineItems', AS_READ, V12],
  ['GET', '/assessmentLineItems/{id}', 'assessmentLineItem', AS_READ, V12],
  ['PUT', '/assessmentLineItems/{id}', 'assessmentLineItem', AS_PUT, V12],
  ['DELETE', '/assessmentLineItems/{id}', 'assessmentLineItem', AS_DELETE, V12],
  ['GET', '/assessmentResults', 'assessmentResults', AS_READ, V12],
  ['GET', '/assessmentResults/{id}', 'assessmentResult', AS_READ, V12],
  ['PUT', '/assessmentResults/{id}', 'assessmentResult', AS_PUT, V12],
  ['DELETE', '/assessmentResults/{id}', 'assessmentResult', AS_DELETE, V12],
];

function build(service: Service, rows: Row[]): Endpoint[] {
  return rows.map(([method, template, wrapper, scopes, versions, derivedOn]) => {
    const segments = template.slice(1).split('/');
    const kind: EndpointKind =
      method !== 'GET' ? 'write' : segments[segments.length - 1] === '{id}' ? 'single' : 'collection';
    const endpoint: Endpoint = { method, template, segments, service, kind, wrapper, scopes, versions: versions ?? BOTH };
    return Object.freeze(derivedOn ? { ...endpoint, derivedOn } : endpoint);
  });
}

export const ENDPOINTS: readonly Endpoint[] = Object.freeze([
  ...build('rostering', ROSTERING),
  ...build('resources', RESOURCES),
  ...build('gradebook', GRADEBOOK),
]);

export type EndpointMatch =
  | { ok: true; endpoint: Endpoint; params: string[] }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'method_not_allowed'; allowed: Method[] };

/**
 * Finds the endpoint for decoded path segments (below the version root). In 1.2 the
 * service segment of the path must agree with the endpoint's service.
 */
export function matchEndpoint(
  version: Version,
  service: Service | undefined,
  method: string,
  segments: readonly string[],
): EndpointMatch {
  const allowed: Method[] = [];
  for (const ep of ENDPOINTS) {
    if (!ep.versions.includes(version) || (service && ep.service !== service)) continue;
    if (ep.segments.length !== segments.length) continue;
    const params: string[] = [];
    const fits = ep.segments.every((s, i) => {
      if (s === '{id}') {
        params.push(segments[i]!);
        return segments[i]!.length > 0;
      }
      return s === segments[i];
    });
    if (!fits) continue;
    if (ep.method === method) return { ok: true, endpoint: ep, params };
    allowed.push(ep.method);
  }
  return allowed.length > 0 ? { ok: false, reason: 'method_not_allowed', allowed } : { ok: false, reason: 'not_found' };
}
