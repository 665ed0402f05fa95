import type { Version } from './endpoints.js';

// The OneRoster data model of each version, field by field (reference §3): what the
// mappers copy, coerce and re-reference, what a filter, sort or fields list may name, and
// which GUIDRef type each reference carries.

export type Entity =
  | 'orgs' | 'academicSessions' | 'courses' | 'classes' | 'users' | 'enrollments' | 'demographics'
  | 'categories' | 'lineItems' | 'results' | 'resources' | 'scoreScales' | 'assessmentLineItems' | 'assessmentResults';

/**
 * string: text (dates too); strings: array of text; boolean: "true"/"false" on the wire;
 * number; ref / refs: GUIDRef(s) of `ref` type; object(s): structured, with known `sub` fields;
 * open: any object (metadata).
 */
export type FieldKind = 'string' | 'strings' | 'boolean' | 'number' | 'ref' | 'refs' | 'object' | 'objects' | 'open';

export interface FieldSpec {
  readonly kind: FieldKind;
  /** GUIDRef type word, for ref and refs. */
  readonly ref?: string;
  /** Known sub-fields of object(s), for dotted filters. */
  readonly sub?: readonly string[];
}

type Fields = Readonly<Record<string, FieldSpec>>;

const s: FieldSpec = { kind: 'string' };
const ss: FieldSpec = { kind: 'strings' };
const b: FieldSpec = { kind: 'boolean' };
const n: FieldSpec = { kind: 'number' };
const ref = (type: string): FieldSpec => ({ kind: 'ref', ref: type });
const refs = (type: string): FieldSpec => ({ kind: 'refs', ref: type });
const objects = (...sub: string[]): FieldSpec => ({ kind: 'objects', sub });

const BASE: Fields = { sourcedId: s, status: s, dateLastModified: s, metadata: { kind: 'open' } };

const ORG: Fields = { ...BASE, name: s, type: s, identifier: s, parent: ref('org'), children: refs('org') };
const SESSION: Fields = {
  ...BASE, title: s, startDate: s, endDate: s, type: s, parent: ref('academicSession'), children: refs('academicSession'), schoolYear: s,
};
const COURSE: Fields = {
  ...BASE, title: s, schoolYear: ref('academicSession'), courseCode: s, grades: ss, subjects: ss, org: ref('org'), subjectCodes: ss,
  resources: refs('resource'),
};
const classFields = (termType: string): Fields => ({
  ...BASE, title: s, classCode: s, classType: s, location: s, grades: ss, subjects: ss, course: ref('course'), school: ref('org'),
  terms: refs(termType), subjectCodes: ss, periods: ss, resources: refs('resource'),
});
const ENROLLMENT: Fields = { ...BASE, user: ref('user'), class: ref('class'), school: ref('org'), role: s, primary: b, beginDate: s, endDate: s };
const DEMOGRAPHICS: Fields = {
  ...BASE, birthDate: s, sex: s, americanIndianOrAlaskaNative: b, asian: b, blackOrAfricanAmerican: b,
  nativeHawaiianOrOtherPacificIslander: b, white: b, demographicRaceTwoOrMoreRaces: b, hispanicOrLatinoEthnicity: b,
  countryOfBirthCode: s, stateOfBirthAbbreviation: s, cityOfBirth: s, publicSchoolResidenceStatus: s,
};
const RESOURCE: Fields = { ...BASE, title: s, roles: ss, importance: s, vendorResourceId: s, vendorId: s, applicationId: s };
const USER_COMMON: Fields = {
  ...BASE, username: s, userIds: objects('type', 'identifier'), enabledUser: b, givenName: s, familyName: s, middleName: s,
  identifier: s, email: s, sms: s, phone: s, agents: refs('user'), grades: ss, password: s,
};
const RESULT_FLAGS: Fields = { inProgress: b, incomplete: b, late: b, missing: b };
const LEARNING_OBJECTIVES = objects('source', 'learningObjectiveIds');
const LEARNING_RESULTS = objects('source', 'learningObjectiveResults');

export const MODEL: Readonly<Record<Version, Partial<Record<Entity, Fields>>>> = {
  v1p1: {
    orgs: ORG,
    academicSessions: SESSION,
    courses: COURSE,
    classes: classFields('term'),
    users: { ...USER_COMMON, role: s, orgs: refs('org') },
    enrollments: ENROLLMENT,
    demographics: DEMOGRAPHICS,
    categories: { ...BASE, title: s },
    lineItems: {
      ...BASE, title: s, description: s, assignDate: s, dueDate: s, class: ref('class'), category: ref('category'),
      gradingPeriod: ref('gradingPeriod'), resultValueMin: n, resultValueMax: n,
    },
    results: { ...BASE, lineItem: ref('lineItem'), student: ref('student'), scoreStatus: s, score: n, scoreDate: s, comment: s },
    resources: RESOURCE,
  },
  v1p2: {
    orgs: ORG,
    academicSessions: SESSION,
    courses: COURSE,
    classes: classFields('academicSession'),
    users: {
      ...USER_COMMON, userMasterIdentifier: s, preferredFirstName: s, preferredMiddleName: s, preferredLastName: s, pronouns: s,
      roles: { kind: 'objects', sub: ['roleType', 'role', 'org', 'userProfile', 'beginDate', 'endDate'] },
      userProfiles: objects('profileId', 'profileType', 'vendorId', 'applicationId', 'description', 'credentials'),
      primaryOrg: ref('org'), resources: refs('resource'),
    },
    enrollments: ENROLLMENT,
    demographics: DEMOGRAPHICS,
    categories: { ...BASE, title: s, weight: n },
    lineItems: {
      ...BASE, title: s, description: s, assignDate: s, dueDate: s, class: ref('class'), school: ref('org'), category: ref('category'),
      gradingPeriod: ref('academicSession'), academicSession: ref('academicSession'), scoreScale: ref('scoreScale'),
      resultValueMin: n, resultValueMax: n, learningObjectiveSet: LEARNING_OBJECTIVES,
    },
    results: {
      ...BASE, lineItem: ref('lineItem'), student: ref('user'), class: ref('class'), scoreScale: ref('scoreScale'), scoreStatus: s,
      score: n, textScore: s, scoreDate: s, comment: s, learningObjectiveSet: LEARNING_RESULTS, ...RESULT_FLAGS,
    },
    resources: RESOURCE,
    scoreScales: {
      ...BASE, title: s, type: s, course: ref('course'), class: ref('class'), scoreScaleValue: objects('itemValueLHS', 'itemValueRHS'),
    },
    assessmentLineItems: {
      ...BASE, title: s, description: s, class: ref('class'), parentAssessmentLineItem: ref('assessmentLineItem'),
      scoreScale: ref('scoreScale'), resultValueMin: n, resultValueMax: n, learningObjectiveSet: LEARNING_OBJECTIVES,
    },
    assessmentResults: {
      ...BASE, assessmentLineItem: ref('assessmentLineItem'), student: ref('user'), score: n, textScore: s, scoreDate: s,
      scoreScale: ref('scoreScale'), scorePercentile: n, scoreStatus: s, comment: s, learningObjectiveSet: LEARNING_RESULTS,
      ...RESULT_FLAGS,
    },
  },
};

const SINGULAR: Readonly<Record<string, Entity>> = {
  org: 'orgs', academicSession: 'academicSessions', course: 'courses', class: 'classes', user: 'users',
  enrollment: 'enrollments', demographics: 'demographics', category: 'categories', lineItem: 'lineItems',
  result: 'results', resource: 'resources', scoreScale: 'scoreScales', assessmentLineItem: 'assessmentLineItems',
  assessmentResult: 'assessmentResults',
};

/** The entity an endpoint's wrapper key holds (`users`, `user`, `demographics`, ...). */
export function entityOfWrapper(wrapper: string): Entity | undefined {
  // Own keys only: `constructor` or `__proto__` must not resolve through Object.prototype.
  if (Object.hasOwn(MODEL.v1p2, wrapper)) return wrapper as Entity;
  return Object.hasOwn(SINGULAR, wrapper) ? SINGULAR[wrapper] : undefined;
}

export function fieldsOf(version: Version, entity: Entity): Fields | undefined {
  return MODEL[version][entity];
}

const GUIDREF_FIELDS: ReadonlySet<string> = new Set(['href', 'sourcedId', 'type']);

/** Whether `path` (e.g. `givenName`, `orgs.sourcedId`, `metadata.anything`) names a field of the entity. */
export function knowsField(version: Version, entity: Entity, path: string): boolean {
  const fields = fieldsOf(version, entity);
  if (!fields) return false;
  const [top, sub, ...rest] = path.split('.');
  // Own keys only, so a filter, sort or fields on `constructor` or `toString` is refused.
  const spec = Object.hasOwn(fields, top!) ? fields[top!] : undefined;
  if (!spec) return false;
  if (sub === undefined) return true;
  if (spec.kind === 'open') return true;
  if (rest.length > 0) return false;
  if (spec.kind === 'ref' || spec.kind === 'refs') return GUIDREF_FIELDS.has(sub);
  return !!spec.sub?.includes(sub);
}
