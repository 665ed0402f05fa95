// Strict zod schemas of OneRoster 1.1 and 1.2 JSON payloads: the test oracle for "the output
// validates against the target version's schema".
//
// Written from /work/shared/oneroster-reference.md (§1 wrappers, §3 data model, §4 errors) and,
// where the reference only names an entity (ScoreScale, AssessmentLineItem, AssessmentResult,
// learningObjectiveSet, userProfiles), from the official 1EdTech OneRoster 1.2 OpenAPI files it
// cites as S1-S3. Deliberately NOT derived from src/sandbox: these schemas must stay an
// independent oracle. Never loosen them to make an implementation pass.
//
// Conventions encoded here:
// * 1.2: every object is strict (OpenAPI `additionalProperties: false`); required fields per the
//   OpenAPI `required` lists; optional text must be absent rather than '' (1.1 tolerates '').
// * Both versions: no JSON null anywhere (not even inside `metadata`); booleans are the strings
//   'true' / 'false'; base fields sourcedId, status ('active' | 'tobedeleted') and
//   dateLastModified (ISO 8601 date-time in UTC) on every entity; `metadata` optional open object.
// * 1.1: strict for the fields 1.1 defines, so 1.2-only fields are rejected; 1.1 vocabularies.

import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Primitives
// ---------------------------------------------------------------------------------------------

export type Version = 'v1p1' | 'v1p2';

/** An `ext:` extension token, as the 1.2 OpenAPI pattern `(ext:)[a-zA-Z0-9\.\-_]+` (anchored). */
const EXT_TOKEN = /^ext:[a-zA-Z0-9.\-_]+$/;
const ext = z.string().regex(EXT_TOKEN, 'expected an ext:-prefixed extension token');

/** A closed vocabulary, optionally extensible with `ext:` tokens. */
function vocab<const T extends readonly [string, ...string[]]>(values: T, extensible: boolean) {
  return extensible ? z.union([z.enum(values), ext]) : z.enum(values);
}

/** ISO 8601 date-time that carries the UTC timezone ('Z', or an explicit +00:00 / -00:00). */
const utcDateTime = z.iso
  .datetime({ offset: true })
  .refine((s) => /(?:Z|[+-]00:?00)$/.test(s), 'dateLastModified must be expressed in UTC (Z)');

/** ISO 8601 date-time with a timezone (assignDate / dueDate): RFC 3339 `date-time`. */
const dateTime = z.iso.datetime({ offset: true });

/** ISO 8601 calendar date YYYY-MM-DD. */
const date = z.iso.date();

/** Absolute http(s) URL (GUIDRef href). Relative (`~/ims/...`) hrefs are not conformant output. */
const absoluteUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, 'expected an absolute http(s) URL');

/** OpenAPI `format: uri`: an absolute URI with a scheme. */
const uri = z.string().regex(/^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/, 'expected an absolute URI');

const boolString = z.enum(['true', 'false']);
const status = z.enum(['active', 'tobedeleted']);
const sourcedId = z.string().min(1);

/** Any JSON value except null (recursively). */
type JsonNoNull = string | number | boolean | JsonNoNull[] | { [k: string]: JsonNoNull };
const jsonNoNull: z.ZodType<JsonNoNull> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.array(jsonNoNull), z.record(z.string(), jsonNoNull)]),
);
/** `MetadataDType`: open extension bag (additionalProperties: true), still null-free. */
const metadata = z.record(z.string(), jsonNoNull);

/** Optional text: 1.1 tolerates '', 1.2 wants the key absent instead. */
const optText = {
  v1p1: z.string().optional(),
  v1p2: z.string().min(1, 'optional text must be absent, not empty').optional(),
} as const;

const base = {
  sourcedId,
  status,
  dateLastModified: utcDateTime,
  metadata: metadata.optional(),
};

// ---------------------------------------------------------------------------------------------
// GUIDRefs
// ---------------------------------------------------------------------------------------------

/** 1.2 GUIDRef types: fixed per referencing field [S1, S2]. */
export const V1P2_GUID_TYPES = [
  'org',
  'academicSession',
  'class',
  'course',
  'user',
  'resource',
  'category',
  'lineItem',
  'scoreScale',
  'assessmentLineItem',
] as const;
type V1p2GuidType = (typeof V1P2_GUID_TYPES)[number];

/** 1.1 GUIDType vocabulary (reference §3.1); any of these is accepted for every 1.1 ref. */
export const V1P1_GUID_TYPES = [
  'academicSession',
  'class',
  'course',
  'enrollment',
  'gradingPeriod',
  'org',
  'student',
  'teacher',
  'term',
  'user',
  'category',
  'lineItem',
  'resource',
  'result',
  'demographics',
] as const;

function ref12<T extends V1p2GuidType>(type: T) {
  return z.strictObject({ href: absoluteUrl, sourcedId, type: z.literal(type) });
}
const ref11 = z.strictObject({ href: absoluteUrl, sourcedId, type: z.enum(V1P1_GUID_TYPES) });

// ---------------------------------------------------------------------------------------------
// Vocabularies
// ---------------------------------------------------------------------------------------------

const ORG_TYPES = ['department', 'district', 'local', 'national', 'school', 'state'] as const;
const SESSION_TYPES = ['gradingPeriod', 'semester', 'schoolYear', 'term'] as const;
const CLASS_TYPES = ['homeroom', 'scheduled'] as const;
const ENROLLMENT_ROLES = ['administrator', 'proctor', 'student', 'teacher'] as const;
const SCORE_STATUSES = ['exempt', 'fully graded', 'not submitted', 'partially graded', 'submitted'] as const;
/** 1.1 user roles; also the 1.2 Resource `roles` vocabulary [S3]. */
const V1P1_USER_ROLES = ['administrator', 'aide', 'guardian', 'parent', 'proctor', 'relative', 'student', 'teacher'] as const;
/** 1.2 user roles (RoleDType.role): no `administrator` [S1]. */
const V1P2_USER_ROLES = [
  'aide',
  'counselor',
  'districtAdministrator',
  'guardian',
  'parent',
  'principal',
  'proctor',
  'relative',
  'siteAdministrator',
  'student',
  'systemAdministrator',
  'teacher',
] as const;
const V1P2_SEX = ['male', 'female', 'unspecified', 'other'] as const;
/** 1.1 sex vocabulary per reference §3.2 (marked [U] there). */
const V1P1_SEX = ['male', 'female'] as const;

// 1.1 enumerations: the reference gives no rule on `ext:` tokens in 1.1; the 1.1 information
// model has the same extension mechanism, so the 1.1 schemas accept `ext:` on the same fields.
const EXT_IN_V1P1 = true;

// ---------------------------------------------------------------------------------------------
// 1.2 entities
// ---------------------------------------------------------------------------------------------

const t12 = optText.v1p2;
const strArr12 = z.array(z.string()).optional();

const learningObjectiveSource = z.union([z.enum(['case', 'unknown']), z.string().regex(/^\/?(?!case$)(?!unknown$)[a-z0-9]+$/)]);
const learningObjectiveSet12 = z.strictObject({
  source: learningObjectiveSource,
  learningObjectiveIds: z.array(z.string()).min(1),
});
const learningObjectiveScoreSet12 = z.strictObject({
  source: learningObjectiveSource,
  learningObjectiveResults: z
    .array(z.strictObject({ learningObjectiveId: z.string(), score: z.number().optional(), textScore: t12 }))
    .min(1),
});

const org12 = z.strictObject({
  ...base,
  name: z.string(),
  type: vocab(ORG_TYPES, true),
  identifier: z.string(),
  parent: ref12('org').optional(),
  children: z.array(ref12('org')).optional(),
});

const academicSession12 = z.strictObject({
  ...base,
  title: z.string(),
  startDate: date,
  endDate: date,
  type: vocab(SESSION_TYPES, true),
  parent: ref12('academicSession').optional(),
  children: z.array(ref12('academicSession')).optional(),
  schoolYear: z.string().regex(/^\d{4}$/, 'schoolYear is YYYY'),
});

const course12 = z.strictObject({
  ...base,
  title: z.string(),
  schoolYear: ref12('academicSession').optional(),
  courseCode: z.string(),
  grades: strArr12,
  subjects: strArr12,
  org: ref12('org').optional(),
  subjectCodes: strArr12,
  resources: z.array(ref12('resource')).optional(),
});

const class12 = z.strictObject({
  ...base,
  title: z.string(),
  classCode: t12,
  classType: vocab(CLASS_TYPES, true).optional(),
  location: t12,
  grades: strArr12,
  subjects: strArr12,
  course: ref12('course'),
  school: ref12('org'),
  terms: z.array(ref12('academicSession')).min(1),
  subjectCodes: strArr12,
  periods: strArr12,
  resources: z.array(ref12('resource')).optional(),
});

const role12 = z.strictObject({
  roleType: z.enum(['primary', 'secondary']),
  role: vocab(V1P2_USER_ROLES, true),
  org: ref12('org'),
  userProfile: uri.optional(),
  beginDate: date.optional(),
  endDate: date.optional(),
});

const userProfile12 = z.strictObject({
  profileId: uri,
  profileType: z.string(),
  vendorId: z.string(),
  applicationId: t12,
  description: t12,
  // CredentialDType is the one open object in the 1.2 model (additionalProperties: true).
  credentials: z.array(z.object({ type: z.string(), username: z.string(), password: t12 }).catchall(jsonNoNull)).optional(),
});

const user12 = z
  .strictObject({
    ...base,
    userMasterIdentifier: t12,
    username: t12,
    userIds: z.array(z.strictObject({ type: z.string(), identifier: z.string() })).optional(),
    enabledUser: boolString,
    givenName: z.string(),
    familyName: z.string(),
    middleName: t12,
    preferredFirstName: t12,
    preferredMiddleName: t12,
    preferredLastName: t12,
    pronouns: t12,
    roles: z.array(role12).min(1),
    userProfiles: z.array(userProfile12).optional(),
    primaryOrg: ref12('org').optional(),
    identifier: t12,
    email: t12,
    sms: t12,
    phone: t12,
    agents: z.array(ref12('user')).optional(),
    grades: strArr12,
    password: t12,
    resources: z.array(ref12('resource')).optional(),
  })
  .superRefine((u, ctx) => {
    // RoleDType.roleType: "There MUST be one, and only one, primary role for each org" [S1].
    const primaries = new Map<string, number>();
    for (const r of u.roles) primaries.set(r.org.sourcedId, (primaries.get(r.org.sourcedId) ?? 0) + (r.roleType === 'primary' ? 1 : 0));
    for (const [org, n] of primaries) {
      if (n !== 1) ctx.addIssue({ code: 'custom', path: ['roles'], message: `org ${org} has ${n} primary roles (must be exactly one)` });
    }
  });

const enrollment12 = z.strictObject({
  ...base,
  user: ref12('user'),
  class: ref12('class'),
  school: ref12('org'),
  role: vocab(ENROLLMENT_ROLES, true),
  primary: boolString.optional(),
  beginDate: date.optional(),
  endDate: date.optional(),
});

const demographics12 = z.strictObject({
  ...base,
  birthDate: date.optional(),
  sex: vocab(V1P2_SEX, true).optional(),
  americanIndianOrAlaskaNative: boolString.optional(),
  asian: boolString.optional(),
  blackOrAfricanAmerican: boolString.optional(),
  nativeHawaiianOrOtherPacificIslander: boolString.optional(),
  white: boolString.optional(),
  demographicRaceTwoOrMoreRaces: boolString.optional(),
  hispanicOrLatinoEthnicity: boolString.optional(),
  countryOfBirthCode: t12,
  stateOfBirthAbbreviation: t12,
  cityOfBirth: t12,
  publicSchoolResidenceStatus: t12,
});

const category12 = z.strictObject({ ...base, title: z.string(), weight: z.number().optional() });

const lineItem12 = z.strictObject({
  ...base,
  title: z.string(),
  description: t12,
  assignDate: dateTime,
  dueDate: dateTime,
  class: ref12('class'),
  school: ref12('org'),
  category: ref12('category'),
  gradingPeriod: ref12('academicSession').optional(),
  academicSession: ref12('academicSession').optional(),
  scoreScale: ref12('scoreScale').optional(),
  resultValueMin: z.number().optional(),
  resultValueMax: z.number().optional(),
  learningObjectiveSet: z.array(learningObjectiveSet12).optional(),
});

const resultFlags12 = {
  inProgress: boolString.optional(),
  incomplete: boolString.optional(),
  late: boolString.optional(),
  missing: boolString.optional(),
};

const result12 = z.strictObject({
  ...base,
  lineItem: ref12('lineItem'),
  student: ref12('user'),
  class: ref12('class').optional(),
  scoreScale: ref12('scoreScale').optional(),
  scoreStatus: vocab(SCORE_STATUSES, true),
  score: z.number().optional(),
  textScore: t12,
  scoreDate: date,
  comment: t12,
  learningObjectiveSet: z.array(learningObjectiveScoreSet12).optional(),
  ...resultFlags12,
});

const resource12 = z.strictObject({
  ...base,
  title: t12,
  roles: z.array(vocab(V1P1_USER_ROLES, true)).optional(),
  importance: z.enum(['primary', 'secondary']).optional(),
  vendorResourceId: z.string(),
  vendorId: t12,
  applicationId: t12,
});

const scoreScale12 = z.strictObject({
  ...base,
  title: z.string(),
  type: z.string(),
  course: ref12('course').optional(),
  class: ref12('class'),
  scoreScaleValue: z.array(z.strictObject({ itemValueLHS: z.string(), itemValueRHS: z.string() })).min(1),
});

const assessmentLineItem12 = z.strictObject({
  ...base,
  title: z.string(),
  description: t12,
  class: ref12('class').optional(),
  parentAssessmentLineItem: ref12('assessmentLineItem').optional(),
  scoreScale: ref12('scoreScale').optional(),
  resultValueMin: z.number().optional(),
  resultValueMax: z.number().optional(),
  learningObjectiveSet: z.array(learningObjectiveSet12).optional(),
});

const assessmentResult12 = z.strictObject({
  ...base,
  assessmentLineItem: ref12('assessmentLineItem'),
  student: ref12('user'),
  score: z.number().optional(),
  textScore: t12,
  scoreDate: date,
  scoreScale: ref12('scoreScale').optional(),
  scorePercentile: z.number().optional(),
  scoreStatus: vocab(SCORE_STATUSES, true),
  comment: t12,
  learningObjectiveSet: z.array(learningObjectiveScoreSet12).optional(),
  ...resultFlags12,
});

// ---------------------------------------------------------------------------------------------
// 1.1 entities
// ---------------------------------------------------------------------------------------------

const t11 = optText.v1p1;
const strArr11 = z.array(z.string()).optional();
const refs11 = z.array(ref11).optional();

const org11 = z.strictObject({
  ...base,
  name: z.string(),
  type: vocab(ORG_TYPES, EXT_IN_V1P1),
  identifier: t11, // required only in 1.2
  parent: ref11.optional(),
  children: refs11,
});

const academicSession11 = z.strictObject({
  ...base,
  title: z.string(),
  startDate: date,
  endDate: date,
  type: vocab(SESSION_TYPES, EXT_IN_V1P1),
  parent: ref11.optional(),
  children: refs11,
  schoolYear: z.string().regex(/^\d{4}$/, 'schoolYear is YYYY'),
});

const course11 = z.strictObject({
  ...base,
  title: z.string(),
  schoolYear: ref11.optional(),
  courseCode: z.string(),
  grades: strArr11,
  subjects: strArr11,
  org: ref11.optional(),
  subjectCodes: strArr11,
  resources: refs11,
});

const class11 = z.strictObject({
  ...base,
  title: z.string(),
  classCode: t11,
  classType: vocab(CLASS_TYPES, EXT_IN_V1P1).optional(),
  location: t11,
  grades: strArr11,
  subjects: strArr11,
  course: ref11,
  school: ref11,
  terms: z.array(ref11).min(1),
  subjectCodes: strArr11,
  periods: strArr11,
  resources: refs11,
});

const user11 = z.strictObject({
  ...base,
  username: z.string(),
  userIds: z.array(z.strictObject({ type: z.string(), identifier: z.string() })).optional(),
  enabledUser: boolString,
  givenName: z.string(),
  familyName: z.string(),
  middleName: t11,
  role: vocab(V1P1_USER_ROLES, EXT_IN_V1P1),
  identifier: t11,
  email: t11,
  sms: t11,
  phone: t11,
  agents: refs11,
  orgs: z.array(ref11).min(1),
  grades: strArr11,
  password: t11,
});

const enrollment11 = z.strictObject({
  ...base,
  user: ref11,
  class: ref11,
  school: ref11,
  role: vocab(ENROLLMENT_ROLES, EXT_IN_V1P1),
  primary: boolString.optional(),
  beginDate: date.optional(),
  endDate: date.optional(),
});

const demographics11 = z.strictObject({
  ...base,
  birthDate: date.optional(),
  sex: vocab(V1P1_SEX, EXT_IN_V1P1).optional(),
  americanIndianOrAlaskaNative: boolString.optional(),
  asian: boolString.optional(),
  blackOrAfricanAmerican: boolString.optional(),
  nativeHawaiianOrOtherPacificIslander: boolString.optional(),
  white: boolString.optional(),
  demographicRaceTwoOrMoreRaces: boolString.optional(),
  hispanicOrLatinoEthnicity: boolString.optional(),
  countryOfBirthCode: t11,
  stateOfBirthAbbreviation: t11,
  cityOfBirth: t11,
  publicSchoolResidenceStatus: t11,
});

const category11 = z.strictObject({ ...base, title: z.string() });

const lineItem11 = z.strictObject({
  ...base,
  title: z.string(),
  description: t11,
  assignDate: dateTime,
  dueDate: dateTime,
  class: ref11,
  category: ref11,
  // The reference says gradingPeriod is required in 1.1, but a lineItem that originates in 1.2
  // (where gradingPeriod is optional and academicSession may be absent too) has no session to
  // put here; accepting it absent is a deliberate, documented relaxation.
  gradingPeriod: ref11.optional(),
  // Likewise optional in 1.2: the gateway does not invent bounds for a 1.2-origin line item.
  resultValueMin: z.number().optional(),
  resultValueMax: z.number().optional(),
});

const result11 = z.strictObject({
  ...base,
  lineItem: ref11,
  student: ref11,
  scoreStatus: vocab(SCORE_STATUSES, EXT_IN_V1P1),
  // Required in 1.1, but a 1.2 result may carry only a textScore: the gateway leaves the
  // score absent rather than invent one (a 0 would read as a grade). Documented as lossy.
  score: z.number().optional(),
  scoreDate: date,
  comment: t11,
});

// Reference §3.2: 1.1 Resource "assumed identical" to 1.2 [U].
const resource11 = z.strictObject({
  ...base,
  title: t11,
  roles: z.array(vocab(V1P1_USER_ROLES, EXT_IN_V1P1)).optional(),
  importance: z.enum(['primary', 'secondary']).optional(),
  vendorResourceId: z.string(),
  vendorId: t11,
  applicationId: t11,
});

// ---------------------------------------------------------------------------------------------
// Exports: entity schemas and payload wrappers
// ---------------------------------------------------------------------------------------------

/** Plural collection names of 1.1 entities (1.1 has no scoreScales / assessment*). */
export type V1p1EntityName =
  | 'orgs'
  | 'academicSessions'
  | 'courses'
  | 'classes'
  | 'users'
  | 'enrollments'
  | 'demographics'
  | 'categories'
  | 'lineItems'
  | 'results'
  | 'resources';
/** Plural collection names of 1.2 entities. */
export type EntityName = V1p1EntityName | 'scoreScales' | 'assessmentLineItems' | 'assessmentResults';
export type EntityNameOf<V extends Version> = V extends 'v1p1' ? V1p1EntityName : EntityName;

export const entitySchemas = {
  v1p1: {
    orgs: org11,
    academicSessions: academicSession11,
    courses: course11,
    classes: class11,
    users: user11,
    enrollments: enrollment11,
    demographics: demographics11,
    categories: category11,
    lineItems: lineItem11,
    results: result11,
    resources: resource11,
  },
  v1p2: {
    orgs: org12,
    academicSessions: academicSession12,
    courses: course12,
    classes: class12,
    users: user12,
    enrollments: enrollment12,
    demographics: demographics12,
    categories: category12,
    lineItems: lineItem12,
    results: result12,
    resources: resource12,
    scoreScales: scoreScale12,
    assessmentLineItems: assessmentLineItem12,
    assessmentResults: assessmentResult12,
  },
} as const satisfies { v1p1: Record<V1p1EntityName, z.ZodType>; v1p2: Record<EntityName, z.ZodType> };

function entitySchema<V extends Version>(version: V, entity: EntityNameOf<V>): z.ZodType {
  const schema = (entitySchemas[version] as Record<string, z.ZodType>)[entity];
  if (!schema) throw new TypeError(`no ${version} schema for entity ${String(entity)}`);
  return schema;
}

/** `{[wrapperKey]: Entity[]}`, strict: a collection body has no other top-level key. */
export function collectionPayload<V extends Version>(version: V, entity: EntityNameOf<V>, wrapperKey: string) {
  return z.strictObject({ [wrapperKey]: z.array(entitySchema(version, entity)) });
}

/** `{[wrapperKey]: Entity}`, strict. */
export function singlePayload<V extends Version>(version: V, entity: EntityNameOf<V>, wrapperKey: string) {
  return z.strictObject({ [wrapperKey]: entitySchema(version, entity) });
}

// ---------------------------------------------------------------------------------------------
// Error bodies (reference §4)
// ---------------------------------------------------------------------------------------------

const codeMajor = z.enum(['success', 'processing', 'failure', 'unsupported']);
const severity = z.enum(['status', 'warning', 'error']);

/**
 * 1.2 imsx_codeMinorFieldValue: rostering enum plus gradebook's `deletefailure` [S1, S2], plus
 * `invalid_sort_field`, which the rostering and gradebook enums lack (reference §4.1) but the
 * resources OpenAPI [S3] lists: the gateway checks `sort` itself and answers an unknown sort
 * field with it on 1.2 paths too. (S3's `unsupported` stays out: no 1.2 body here carries it.)
 */
const V1P2_CODE_MINOR = [
  'fullsuccess',
  'invalid_filter_field',
  'invalid_selection_field',
  'invalid_sort_field',
  'invaliddata',
  'unauthorisedrequest',
  'forbidden',
  'server_busy',
  'unknownobject',
  'internal_server_error',
  'deletefailure',
] as const;

/** 1.1 codeMinor values (reference §4.2), note the spaces in the first four. */
const V1P1_CODE_MINOR = [
  'full success',
  'unknown object',
  'invalid data',
  'unauthorized',
  'invalid_sort_field',
  'invalid_filter_field',
  'invalid_selection_field',
  'invalid_blank_selection_field',
  'forbidden',
  'server_busy',
  'internal_server_error',
] as const;

function codeMinor<const T extends readonly [string, ...string[]]>(values: T) {
  return z.strictObject({
    imsx_codeMinorField: z
      .array(z.strictObject({ imsx_codeMinorFieldName: z.string().min(1), imsx_codeMinorFieldValue: z.enum(values) }))
      .min(1),
  });
}

/**
 * 1.2: one imsx_StatusInfoDType object, `imsx_CodeMinor` with a capital C. The OpenAPI marks
 * imsx_CodeMinor optional; this oracle requires it (a gateway error must say which code minor).
 */
const statusInfo12 = z.strictObject({
  imsx_codeMajor: codeMajor,
  imsx_severity: severity,
  imsx_description: z.string().optional(),
  imsx_CodeMinor: codeMinor(V1P2_CODE_MINOR),
});

/**
 * 1.1: `{statusInfoSet: [...]}`, `imsx_codeMinor` lower-case c, object form (not the flat string
 * some servers send). imsx_messageRefIdentifier / imsx_operationRefIdentifier are standard imsx
 * StatusInfo fields seen in 1.1 servers [I MS/QST], so they are allowed.
 */
const statusInfo11 = z.strictObject({
  statusInfoSet: z
    .array(
      z.strictObject({
        imsx_codeMajor: codeMajor,
        imsx_severity: severity,
        imsx_description: z.string().optional(),
        imsx_messageRefIdentifier: z.string().optional(),
        imsx_operationRefIdentifier: z.string().optional(),
        imsx_codeMinor: codeMinor(V1P1_CODE_MINOR),
      }),
    )
    .min(1),
});

export const statusInfoSchemas = { v1p1: statusInfo11, v1p2: statusInfo12 } as const;

// ---------------------------------------------------------------------------------------------
// Readable assertions
// ---------------------------------------------------------------------------------------------

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(root)' : out;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = value;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function preview(v: unknown): string {
  const s = v === undefined ? 'undefined' : JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

/** The schema's issues for `value` as readable `path: message (got ...)` lines; [] when valid. */
export function validationIssues(schema: z.ZodType, value: unknown, max = 50): string[] {
  const res = schema.safeParse(value);
  if (res.success) return [];
  const lines = res.error.issues.slice(0, max).map((i) => {
    return `${formatPath(i.path)}: ${i.message} (got ${preview(valueAt(value, i.path))})`;
  });
  if (res.error.issues.length > max) lines.push(`... and ${res.error.issues.length - max} more issue(s)`);
  return lines;
}

/** Throws an Error listing every zod issue with its path when `value` does not match `schema`. */
export function expectValid(schema: z.ZodType, value: unknown, label = 'value'): void {
  const issues = validationIssues(schema, value);
  if (issues.length > 0) throw new Error(`${label} does not match the OneRoster schema:\n  ${issues.join('\n  ')}`);
}
