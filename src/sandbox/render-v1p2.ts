// OneRoster 1.2 JSON shapes (per the 1EdTech OpenAPI): users carry roles[] and
// primaryOrg instead of role/orgs, `administrator` becomes district- or siteAdministrator,
// GUIDRef types come from the fixed 1.2 set, absent optional fields are omitted.

import type { CollectionName, RecordTypes, UserRecord } from './records.js';
import {
  BASE_FIELDS, REF, SHARED_FIELDS, classRenderer, maybeRef, renderAcademicSession, renderCourse, renderEnrollment, renderDemographics, renderOrg, renderResource, withBase,
  type FieldCatalogue, type Json, type RenderContext, type VersionRenderer,
} from './render-common.js';

type Renderers = { [C in CollectionName]: (rec: RecordTypes[C], ctx: RenderContext) => Json };

/** One primary role per org, as the 1.2 RoleDType rules require. */
function roles(r: UserRecord, ctx: RenderContext): Json[] {
  return r.orgIds.map((orgId) => {
    let role: string = r.role;
    if (role === 'administrator') {
      role = ctx.store.get('orgs', orgId)?.type === 'district' ? 'districtAdministrator' : 'siteAdministrator';
    }
    return { roleType: 'primary', role, org: ctx.ref('org', orgId) };
  });
}

const RENDER: Renderers = {
  orgs: renderOrg,
  academicSessions: renderAcademicSession,
  courses: renderCourse,
  classes: classRenderer('academicSession'),
  users: (r, ctx) => withBase(r, {
    userMasterIdentifier: r.userMasterIdentifier, username: r.username, userIds: r.userIds,
    enabledUser: r.enabledUser, givenName: r.givenName, familyName: r.familyName, middleName: r.middleName,
    preferredFirstName: r.preferredFirstName, pronouns: r.pronouns, roles: roles(r, ctx),
    primaryOrg: maybeRef(ctx, 'org', r.orgIds[0]), identifier: r.identifier, email: r.email, sms: r.sms, phone: r.phone,
    agents: r.agentIds.map((id) => ctx.ref('user', id)), grades: r.grades,
    resources: r.resourceIds.map((id) => ctx.ref('resource', id)),
  }),
  enrollments: renderEnrollment,
  demographics: renderDemographics,
  categories: (r) => withBase(r, { title: r.title, weight: r.weight }),
  lineItems: (r, ctx) => withBase(r, {
    title: r.title, description: r.description, assignDate: r.assignDate, dueDate: r.dueDate,
    class: ctx.ref('class', r.classId), school: ctx.ref('org', r.schoolId), category: ctx.ref('category', r.categoryId),
    gradingPeriod: maybeRef(ctx, 'academicSession', r.gradingPeriodId),
    academicSession: maybeRef(ctx, 'academicSession', r.academicSessionId),
    scoreScale: maybeRef(ctx, 'scoreScale', r.scoreScaleId),
    resultValueMin: r.resultValueMin, resultValueMax: r.resultValueMax,
  }),
  results: (r, ctx) => withBase(r, {
    lineItem: ctx.ref('lineItem', r.lineItemId), student: ctx.ref('user', r.studentId),
    class: maybeRef(ctx, 'class', r.classId), scoreScale: maybeRef(ctx, 'scoreScale', r.scoreScaleId),
    scoreStatus: r.scoreStatus, score: r.score, textScore: r.textScore, scoreDate: r.scoreDate, comment: r.comment,
    inProgress: r.inProgress, incomplete: r.incomplete, late: r.late, missing: r.missing,
  }),
  resources: renderResource,
  scoreScales: (r, ctx) => withBase(r, {
    title: r.title, type: r.type, course: maybeRef(ctx, 'course', r.courseId), class: ctx.ref('class', r.classId),
    scoreScaleValue: r.scoreScaleValue,
  }),
  assessmentLineItems: (r, ctx) => withBase(r, {
    title: r.title, description: r.description, class: maybeRef(ctx, 'class', r.classId),
    parentAssessmentLineItem: maybeRef(ctx, 'assessmentLineItem', r.parentId), scoreScale: maybeRef(ctx, 'scoreScale', r.scoreScaleId),
    resultValueMin: r.resultValueMin, resultValueMax: r.resultValueMax,
  }),
  assessmentResults: (r, ctx) => withBase(r, {
    assessmentLineItem: ctx.ref('assessmentLineItem', r.assessmentLineItemId), student: ctx.ref('user', r.studentId),
    score: r.score, textScore: r.textScore, scoreDate: r.scoreDate, scoreScale: maybeRef(ctx, 'scoreScale', r.scoreScaleId),
    scorePercentile: r.scorePercentile, scoreStatus: r.scoreStatus, comment: r.comment,
    inProgress: r.inProgress, incomplete: r.incomplete, late: r.late, missing: r.missing,
  }),
};

const RESULT_FLAGS: FieldCatalogue = { inProgress: null, incomplete: null, late: null, missing: null };

const FIELDS: Record<CollectionName, FieldCatalogue> = {
  ...SHARED_FIELDS,
  users: {
    ...BASE_FIELDS, userMasterIdentifier: null, username: null, userIds: ['type', 'identifier'], enabledUser: null,
    givenName: null, familyName: null, middleName: null, preferredFirstName: null, preferredMiddleName: null,
    preferredLastName: null, pronouns: null, roles: ['roleType', 'role', 'org', 'userProfile', 'beginDate', 'endDate'],
    userProfiles: ['profileId', 'profileType', 'vendorId', 'applicationId', 'description', 'credentials'],
    primaryOrg: REF, identifier: null, email: null, sms: null, phone: null, agents: REF, grades: null, password: null, resources: REF,
  },
  categories: { ...BASE_FIELDS, title: null, weight: null },
  lineItems: {
    ...BASE_FIELDS, title: null, description: null, assignDate: null, dueDate: null, class: REF, school: REF, category: REF,
    gradingPeriod: REF, academicSession: REF, scoreScale: REF, resultValueMin: null, resultValueMax: null,
    learningObjectiveSet: ['source', 'learningObjectiveIds'],
  },
  results: {
    ...BASE_FIELDS, lineItem: REF, student: REF, class: REF, scoreScale: REF, scoreStatus: null, score: null,
    textScore: null, scoreDate: null, comment: null, learningObjectiveSet: ['source', 'learningObjectiveResults'], ...RESULT_FLAGS,
  },
  scoreScales: { ...BASE_FIELDS, title: null, type: null, course: REF, class: REF, scoreScaleValue: ['itemValueLHS', 'itemValueRHS'] },
  assessmentLineItems: {
    ...BASE_FIELDS, title: null, description: null, class: REF, parentAssessmentLineItem: REF, scoreScale: REF,
    resultValueMin: null, resultValueMax: null, learningObjectiveSet: ['source', 'learningObjectiveIds'],
  },
  assessmentResults: {
    ...BASE_FIELDS, assessmentLineItem: REF, student: REF, score: null, textScore: null, scoreDate: null, scoreScale: REF,
    scorePercentile: null, scoreStatus: null, comment: null, learningObjectiveSet: ['source', 'learningObjectiveResults'], ...RESULT_FLAGS,
  },
};

export const v1p2Renderer: VersionRenderer = {
  collections: Object.keys(RENDER) as CollectionName[],
  fields: (collection) => FIELDS[collection],
  render(collection, record, ctx) {
    return (RENDER[collection] as (r: unknown, c: RenderContext) => Json)(record, ctx);
  },
};
