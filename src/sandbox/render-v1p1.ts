// OneRoster 1.1 JSON shapes. Mirrors what 1.1 servers emit: a single user `role` with an
// `orgs[]` list, GUIDRef types from the wider 1.1 vocabulary (term, gradingPeriod,
// student), empty strings for absent optional text, and lineItem.gradingPeriod.

import type { CollectionName, RecordTypes, UserRole } from './records.js';
import {
  BASE_FIELDS, REF, SHARED_FIELDS, classRenderer, maybeRef, renderAcademicSession, renderCourse, renderEnrollment, renderDemographics, renderOrg, renderResource, withBase,
  type FieldCatalogue, type Json, type RenderContext, type VersionRenderer,
} from './render-common.js';

type Renderers = { [C in CollectionName]?: (rec: RecordTypes[C], ctx: RenderContext) => Json };

const V1P1_ROLES: ReadonlySet<string> = new Set(['administrator', 'aide', 'guardian', 'parent', 'proctor', 'relative', 'student', 'teacher']);

/** 1.2-only staff roles collapse to `administrator`, the only 1.1 word for them. */
function role11(role: UserRole): string {
  return V1P1_ROLES.has(role) ? role : 'administrator';
}

const RENDER: Renderers = {
  orgs: renderOrg,
  academicSessions: renderAcademicSession,
  courses: renderCourse,
  classes: classRenderer('term'),
  users: (r, ctx) => withBase(r, {
    username: r.username, userIds: r.userIds, enabledUser: r.enabledUser,
    givenName: r.givenName, familyName: r.familyName, middleName: r.middleName ?? '',
    role: role11(r.role), identifier: r.identifier, email: r.email, sms: r.sms ?? '', phone: r.phone ?? '',
    agents: r.agentIds.map((id) => ctx.ref('user', id)), orgs: r.orgIds.map((id) => ctx.ref('org', id)), grades: r.grades,
  }),
  enrollments: renderEnrollment,
  demographics: renderDemographics,
  categories: (r) => withBase(r, { title: r.title }),
  lineItems: (r, ctx) => withBase(r, {
    title: r.title, description: r.description ?? '', assignDate: r.assignDate, dueDate: r.dueDate,
    class: ctx.ref('class', r.classId), category: ctx.ref('category', r.categoryId),
    gradingPeriod: maybeRef(ctx, 'gradingPeriod', r.gradingPeriodId ?? r.academicSessionId),
    resultValueMin: r.resultValueMin, resultValueMax: r.resultValueMax,
  }),
  results: (r, ctx) => withBase(r, {
    lineItem: ctx.ref('lineItem', r.lineItemId), student: ctx.ref('student', r.studentId),
    scoreStatus: r.scoreStatus, score: r.score ?? 0, scoreDate: r.scoreDate, comment: r.comment ?? '',
  }),
  resources: renderResource,
};

const FIELDS: { [C in CollectionName]?: FieldCatalogue } = {
  ...SHARED_FIELDS,
  users: {
    ...BASE_FIELDS, username: null, userIds: ['type', 'identifier'], enabledUser: null, givenName: null, familyName: null,
    middleName: null, role: null, identifier: null, email: null, sms: null, phone: null, agents: REF, orgs: REF, grades: null, password: null,
  },
  categories: { ...BASE_FIELDS, title: null },
  lineItems: {
    ...BASE_FIELDS, title: null, description: null, assignDate: null, dueDate: null, class: REF, category: REF,
    gradingPeriod: REF, resultValueMin: null, resultValueMax: null,
  },
  results: { ...BASE_FIELDS, lineItem: REF, student: REF, scoreStatus: null, score: null, scoreDate: null, comment: null },
};

export const v1p1Renderer: VersionRenderer = {
  collections: Object.keys(RENDER) as CollectionName[],
  fields: (collection) => FIELDS[collection] ?? {},
  render(collection, record, ctx) {
    const fn = RENDER[collection] as ((r: unknown, c: RenderContext) => Json) | undefined;
    if (!fn) throw new Error(`v1p1 has no ${collection}`);
    return fn(record, ctx);
  },
};
