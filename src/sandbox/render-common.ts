// Pieces both renderers use: the JSON object type, GUIDRef construction and the field
// catalogue format that filter, sort and fields validation read.

import type { CollectionName, RecordTypes } from './records.js';
import type { SandboxStore } from './store.js';

export type Json = Record<string, unknown>;

export interface GuidRef {
  href: string;
  sourcedId: string;
  type: string;
}

/**
 * Known top-level fields of one entity in one version. `null` marks a scalar or an array
 * of scalars; a list names the sub-fields of an object or array-of-objects field, which
 * dotted filters (`orgs.sourcedId`, `roles.role`) may address. '*' allows any sub-field.
 */
export type FieldCatalogue = Readonly<Record<string, readonly string[] | null>>;

export const REF = ['href', 'sourcedId', 'type'] as const;
export const BASE_FIELDS: FieldCatalogue = { sourcedId: null, status: null, dateLastModified: null, metadata: ['*'] };

export interface RenderContext {
  store: SandboxStore;
  /** Absolute href to a record, built the way this version lays out its URLs. */
  ref(type: string, sourcedId: string): GuidRef;
}

export interface VersionRenderer {
  /** Collections this version serves at all (1.1 has no score scales or assessments). */
  readonly collections: readonly CollectionName[];
  fields(collection: CollectionName): FieldCatalogue;
  render(collection: CollectionName, record: unknown, ctx: RenderContext): Json;
}

/**
 * The base fields followed by `fields`, skipping undefined ones so absent optional fields
 * are absent, never null. Built by plain assignment: object spread into a literal is a
 * slow path in V8, and renderings run once per record per filtered request.
 */
export function withBase(rec: { sourcedId: string; status: string; dateLastModified: string; metadata?: unknown }, fields: Json): Json {
  const out: Json = { sourcedId: rec.sourcedId, status: rec.status, dateLastModified: rec.dateLastModified };
  if (rec.metadata !== undefined) out.metadata = rec.metadata;
  for (const key in fields) if (fields[key] !== undefined) out[key] = fields[key];
  return out;
}

export function maybeRef(ctx: RenderContext, type: string, id: string | undefined): GuidRef | undefined {
  return id === undefined ? undefined : ctx.ref(type, id);
}

export function childIds(ctx: RenderContext, collection: 'orgs' | 'academicSessions', parentId: string): string[] {
  return (ctx.store.groupBy(collection, 'parentId').get(parentId) ?? []).map((r) => r.sourcedId);
}

// Orgs, academic sessions, courses, classes and enrollments have the same shape in 1.1 and
// 1.2; a class's term references differ only in their GUIDRef type word.

export function renderOrg(r: RecordTypes['orgs'], ctx: RenderContext): Json {
  return withBase(r, {
    name: r.name, type: r.type, identifier: r.identifier,
    parent: maybeRef(ctx, 'org', r.parentId),
    children: childIds(ctx, 'orgs', r.sourcedId).map((id) => ctx.ref('org', id)),
  });
}

export function renderAcademicSession(r: RecordTypes['academicSessions'], ctx: RenderContext): Json {
  return withBase(r, {
    title: r.title, startDate: r.startDate, endDate: r.endDate, type: r.type,
    parent: maybeRef(ctx, 'academicSession', r.parentId),
    children: childIds(ctx, 'academicSessions', r.sourcedId).map((id) => ctx.ref('academicSession', id)),
    schoolYear: r.schoolYear,
  });
}

export function renderCourse(r: RecordTypes['courses'], ctx: RenderContext): Json {
  return withBase(r, {
    title: r.title, schoolYear: ctx.ref('academicSession', r.schoolYearId), courseCode: r.courseCode,
    grades: r.grades, subjects: r.subjects, org: ctx.ref('org', r.orgId), subjectCodes: r.subjectCodes,
    resources: r.resourceIds.map((id) => ctx.ref('resource', id)),
  });
}

export function classRenderer(termType: 'term' | 'academicSession') {
  return (r: RecordTypes['classes'], ctx: RenderContext): Json =>
    withBase(r, {
      title: r.title, classCode: r.classCode, classType: r.classType, location: r.location,
      grades: r.grades, subjects: r.subjects, course: ctx.ref('course', r.courseId), school: ctx.ref('org', r.schoolId),
      terms: r.termIds.map((id) => ctx.ref(termType, id)), subjectCodes: r.subjectCodes, periods: r.periods,
      resources: r.resourceIds.map((id) => ctx.ref('resource', id)),
    });
}

export function renderEnrollment(r: RecordTypes['enrollments'], ctx: RenderContext): Json {
  return withBase(r, {
    user: ctx.ref('user', r.userId), class: ctx.ref('class', r.classId), school: ctx.ref('org', r.schoolId),
    role: r.role, primary: r.primary, beginDate: r.beginDate, endDate: r.endDate,
  });
}

export function renderDemographics(r: RecordTypes['demographics']): Json {
  const { sourcedId: _s, status: _st, dateLastModified: _d, metadata: _m, ...rest } = r;
  return withBase(r, rest);
}

export function renderResource(r: RecordTypes['resources']): Json {
  return withBase(r, {
    title: r.title, roles: r.roles, importance: r.importance,
    vendorResourceId: r.vendorResourceId, vendorId: r.vendorId, applicationId: r.applicationId,
  });
}

/** Field catalogues of the entities whose shape is the same in 1.1 and 1.2. */
export const SHARED_FIELDS = {
  orgs: { ...BASE_FIELDS, name: null, type: null, identifier: null, parent: REF, children: REF },
  academicSessions: { ...BASE_FIELDS, title: null, startDate: null, endDate: null, type: null, parent: REF, children: REF, schoolYear: null },
  courses: { ...BASE_FIELDS, title: null, schoolYear: REF, courseCode: null, grades: null, subjects: null, org: REF, subjectCodes: null, resources: REF },
  classes: {
    ...BASE_FIELDS, title: null, classCode: null, classType: null, location: null, grades: null, subjects: null,
    course: REF, school: REF, terms: REF, subjectCodes: null, periods: null, resources: REF,
  },
  enrollments: { ...BASE_FIELDS, user: REF, class: REF, school: REF, role: null, primary: null, beginDate: null, endDate: null },
  demographics: {
    ...BASE_FIELDS, birthDate: null, sex: null, americanIndianOrAlaskaNative: null, asian: null, blackOrAfricanAmerican: null,
    nativeHawaiianOrOtherPacificIslander: null, white: null, demographicRaceTwoOrMoreRaces: null, hispanicOrLatinoEthnicity: null,
    countryOfBirthCode: null, stateOfBirthAbbreviation: null, cityOfBirth: null, publicSchoolResidenceStatus: null,
  },
  resources: { ...BASE_FIELDS, title: null, roles: null, importance: null, vendorResourceId: null, vendorId: null, applicationId: null },
} satisfies Record<string, FieldCatalogue>;
