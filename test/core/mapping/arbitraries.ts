// fast-check arbitraries for OneRoster 1.1 and 1.2 records, written from the reference
// (/work/shared/oneroster-reference.md §3), not from src/core/oneroster/model.ts, so the
// mapping properties check the mapper against an independent description of both models.
//
// 1.1 records carry what real 1.1 servers send: GUIDRefs with absolute, tilde-relative or no
// href and the wider 1.1 type vocabulary (`term`, `gradingPeriod`, `student`, `teacher`),
// booleans as strings or JSON booleans, numbers sometimes as numeric strings, optional fields
// present or absent. 1.2 records are valid per the 1.2 OpenAPI (and test/support schemas).
import fc from 'fast-check';
import type { Version } from '../../../src/core/oneroster/endpoints.js';
import type { Entity } from '../../../src/core/oneroster/model.js';

export type Json = Record<string, unknown>;

/** How a field is compared after a round trip. */
export type Kind = 'text' | 'texts' | 'bool' | 'num' | 'ref' | 'refs' | 'objects' | 'open';

export interface FieldDef {
  kind: Kind;
  arb: fc.Arbitrary<unknown>;
  required: boolean;
  /** Optional free text (1.2 wants it absent rather than ''). */
  optionalText?: boolean;
}

export type V1p1Entity =
  | 'orgs' | 'academicSessions' | 'courses' | 'classes' | 'users' | 'enrollments' | 'demographics'
  | 'categories' | 'lineItems' | 'results' | 'resources';

export const ENTITIES_11: readonly V1p1Entity[] = [
  'orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments', 'demographics',
  'categories', 'lineItems', 'results', 'resources',
];
export const ENTITIES_ALL: readonly Entity[] = [...ENTITIES_11, 'scoreScales', 'assessmentLineItems', 'assessmentResults'];

// ---------------------------------------------------------------------------------------------
// Vocabularies (reference §3.2)
// ---------------------------------------------------------------------------------------------

export const ORG_TYPES = ['department', 'district', 'local', 'national', 'school', 'state'] as const;
export const SESSION_TYPES = ['gradingPeriod', 'semester', 'schoolYear', 'term'] as const;
export const CLASS_TYPES = ['homeroom', 'scheduled'] as const;
export const ENROLLMENT_ROLES = ['administrator', 'proctor', 'student', 'teacher'] as const;
export const SCORE_STATUSES = ['exempt', 'fully graded', 'not submitted', 'partially graded', 'submitted'] as const;
export const V1P1_ROLES = ['administrator', 'aide', 'guardian', 'parent', 'proctor', 'relative', 'student', 'teacher'] as const;
export const V1P1_ROLES_NO_ADMIN = V1P1_ROLES.filter((r) => r !== 'administrator');
export const V1P2_ROLES = [
  'aide', 'counselor', 'districtAdministrator', 'guardian', 'parent', 'principal', 'proctor', 'relative',
  'siteAdministrator', 'student', 'systemAdministrator', 'teacher',
] as const;
/** 1.2 staff roles 1.1 can only call `administrator` (reference §3.2 User). */
export const V1P2_ADMIN_ROLES = ['counselor', 'districtAdministrator', 'principal', 'siteAdministrator', 'systemAdministrator'] as const;
export const V1P2_SEX = ['male', 'female', 'unspecified', 'other'] as const;
export const V1P1_SEX = ['male', 'female'] as const;

/** The 1.1 GUIDRef type words each kind of reference may carry (reference §3.1). */
export const TYPE_WORDS_11: Readonly<Record<string, readonly string[]>> = {
  org: ['org'],
  academicSession: ['academicSession', 'term', 'gradingPeriod'],
  user: ['user', 'student', 'teacher'],
  class: ['class'],
  course: ['course'],
  resource: ['resource'],
  category: ['category'],
  lineItem: ['lineItem'],
};

// The gateway links 1.1's narrower words to the collection holding every record of the kind
// (a `term` ref may name a semester, which /terms/{id} would not find).
export const PATH_OF_TYPE: Readonly<Record<string, string>> = {
  org: 'orgs', academicSession: 'academicSessions', term: 'academicSessions', gradingPeriod: 'academicSessions', user: 'users',
  student: 'users', teacher: 'users', class: 'classes', course: 'courses', resource: 'resources',
  category: 'categories', lineItem: 'lineItems', scoreScale: 'scoreScales',
};
const SERVICE_12: Readonly<Record<string, string>> = {
  resource: 'resources', category: 'gradebook', lineItem: 'gradebook', scoreScale: 'gradebook',
};

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

const plainId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$/);
/** Mostly SIS-like ids, some UUIDs, a few with spaces, slashes or non-ASCII (hrefs must encode them). */
export const sourcedIdArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: plainId },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }).filter((s) => s.trim() !== '') },
);
/** Org ids whose prefix tells the property context the org's type. */
export const orgIdArb = fc.tuple(fc.constantFrom('dist-', 'sch-', 'dept-', ''), sourcedIdArb).map(([p, id]) => p + id);

export const textArb = fc.string({ minLength: 1, maxLength: 24 }).filter((s) => s.trim() !== '');
const texts = fc.array(textArb, { maxLength: 3 });
const grades = fc.array(fc.constantFrom('PK', 'KG', '01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'), { maxLength: 3 });
const moment = fc.date({ min: new Date('2000-01-01T00:00:00.000Z'), max: new Date('2039-12-31T23:59:59.999Z'), noInvalidDate: true });
const dateTimeArb = moment.map((d) => d.toISOString());
const dateArb = moment.map((d) => d.toISOString().slice(0, 10));
const yearArb = fc.integer({ min: 2000, max: 2039 }).map(String);
const ext = fc.stringMatching(/^[a-zA-Z0-9]{1,8}$/).map((s) => `ext:${s}`);
const vocab = (values: readonly string[], extensible = false) =>
  extensible ? fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: ext }) : fc.constantFrom(...values);
const scoreNumber = fc.integer({ min: 0, max: 10_000 }).map((n) => n / 10);
/** 1.1 numbers: usually JSON numbers, sometimes numeric strings. */
const num11 = fc.oneof({ weight: 4, arbitrary: scoreNumber }, { weight: 1, arbitrary: scoreNumber.map(String) });
/** 1.1 booleans: the strings, or JSON booleans some servers emit (reference §3.1). */
const bool11 = fc.constantFrom<unknown>('true', 'false', true, false);
const bool12 = fc.constantFrom('true', 'false');
const scalar = fc.oneof(textArb, fc.integer(), fc.boolean());
const metadataArb = fc.dictionary(fc.stringMatching(/^[a-z][A-Za-z0-9]{0,10}$/), fc.oneof(scalar, fc.array(scalar, { maxLength: 2 })), {
  maxKeys: 3,
});
/** Vendor fields neither version defines (x + capital never collides with a OneRoster field). */
export const vendorExtrasArb = fc.dictionary(fc.stringMatching(/^x[A-Z][a-zA-Z]{1,8}$/), scalar, { maxKeys: 2 });

// ---------------------------------------------------------------------------------------------
// GUIDRefs
// ---------------------------------------------------------------------------------------------

export const UPSTREAM_11 = 'https://sis.example.org/ims/oneroster/v1p1';
export const UPSTREAM_12 = 'https://sis.example.org/ims/oneroster';

const idFor = (kind: string) => (kind === 'org' ? orgIdArb : sourcedIdArb);

/** A GUIDRef as a 1.1 server sends it: absolute, tilde-relative or missing href; any 1.1 type word for the kind. */
export function ref11(kind: string): fc.Arbitrary<Json> {
  return fc
    .tuple(idFor(kind), fc.constantFrom(...TYPE_WORDS_11[kind]!), fc.constantFrom('absolute', 'tilde', 'none'))
    .map(([sourcedId, type, form]) => {
      const path = `${PATH_OF_TYPE[type]}/${encodeURIComponent(sourcedId)}`;
      const ref: Json = { sourcedId, type };
      if (form === 'absolute') ref.href = `${UPSTREAM_11}/${path}`;
      if (form === 'tilde') ref.href = `~/ims/oneroster/v1p1/${path}`;
      return ref;
    });
}

const refs11 = (kind: string, minLength = 0) =>
  fc.uniqueArray(ref11(kind), { minLength, maxLength: 3, selector: (r) => r.sourcedId });

/** A 1.2 GUIDRef: absolute href, the one type word of its kind (reference §3.1). */
export function ref12(type: string, id: fc.Arbitrary<string> = idFor(type)): fc.Arbitrary<Json> {
  return id.map((sourcedId) => ({
    href: `${UPSTREAM_12}/${SERVICE_12[type] ?? 'rostering'}/v1p2/${PATH_OF_TYPE[type]}/${encodeURIComponent(sourcedId)}`,
    sourcedId,
    type,
  }));
}

const refs12 = (type: string, minLength = 0) =>
  fc.uniqueArray(ref12(type), { minLength, maxLength: 3, selector: (r) => r.sourcedId });

// ---------------------------------------------------------------------------------------------
// Field tables
// ---------------------------------------------------------------------------------------------

const req = (kind: Kind, arb: fc.Arbitrary<unknown>): FieldDef => ({ kind, arb, required: true });
const opt = (kind: Kind, arb: fc.Arbitrary<unknown>): FieldDef => ({ kind, arb, required: false });
const optText = (arb: fc.Arbitrary<unknown> = textArb): FieldDef => ({ kind: 'text', arb, required: false, optionalText: true });

type Table = Record<string, FieldDef>;

const base: Table = {
  sourcedId: req('text', sourcedIdArb),
  status: req('text', fc.constantFrom('active', 'tobedeleted')),
  dateLastModified: req('text', dateTimeArb),
  metadata: opt('open', metadataArb),
};

const demographicFlags = (bool: fc.Arbitrary<unknown>): Table =>
  Object.fromEntries(
    [
      'americanIndianOrAlaskaNative', 'asian', 'blackOrAfricanAmerican', 'nativeHawaiianOrOtherPacificIslander', 'white',
      'demographicRaceTwoOrMoreRaces', 'hispanicOrLatinoEthnicity',
    ].map((k) => [k, opt('bool', bool)]),
  );

const userIds = fc.array(fc.record({ type: fc.constantFrom('LDAP', 'SIS', 'MS', 'state'), identifier: textArb }), { maxLength: 2 });

/** 1.1 fields per entity (reference §3.2, 1.1 columns). Users' role is set by the caller of record11. */
export const FIELDS_11: Readonly<Record<V1p1Entity, Table>> = {
  orgs: {
    ...base, name: req('text', textArb), type: req('text', vocab(ORG_TYPES, true)), identifier: optText(),
    parent: opt('ref', ref11('org')), children: opt('refs', refs11('org')),
  },
  academicSessions: {
    ...base, title: req('text', textArb), startDate: req('text', dateArb), endDate: req('text', dateArb),
    type: req('text', vocab(SESSION_TYPES, true)), parent: opt('ref', ref11('academicSession')),
    children: opt('refs', refs11('academicSession')), schoolYear: req('text', yearArb),
  },
  courses: {
    ...base, title: req('text', textArb), schoolYear: opt('ref', ref11('academicSession')), courseCode: req('text', textArb),
    grades: opt('texts', grades), subjects: opt('texts', texts), org: opt('ref', ref11('org')), subjectCodes: opt('texts', texts),
    resources: opt('refs', refs11('resource')),
  },
  classes: {
    ...base, title: req('text', textArb), classCode: optText(), classType: opt('text', vocab(CLASS_TYPES, true)), location: optText(),
    grades: opt('texts', grades), subjects: opt('texts', texts), course: req('ref', ref11('course')), school: req('ref', ref11('org')),
    terms: req('refs', refs11('academicSession', 1)), subjectCodes: opt('texts', texts), periods: opt('texts', texts),
    resources: opt('refs', refs11('resource')),
  },
  users: {
    ...base, username: req('text', textArb), userIds: opt('objects', userIds), enabledUser: req('bool', bool11),
    givenName: req('text', textArb), familyName: req('text', textArb), middleName: optText(), role: req('text', vocab(V1P1_ROLES_NO_ADMIN)),
    identifier: optText(), email: optText(), sms: optText(), phone: optText(), agents: opt('refs', refs11('user')),
    orgs: req('refs', refs11('org', 1)), grades: opt('texts', grades), password: optText(),
  },
  enrollments: {
    ...base, user: req('ref', ref11('user')), class: req('ref', ref11('class')), school: req('ref', ref11('org')),
    role: req('text', vocab(ENROLLMENT_ROLES, true)), primary: opt('bool', bool11), beginDate: opt('text', dateArb),
    endDate: opt('text', dateArb),
  },
  demographics: {
    ...base, birthDate: opt('text', dateArb), sex: opt('text', vocab(V1P1_SEX)), ...demographicFlags(bool11),
    countryOfBirthCode: optText(fc.constantFrom('US', 'MX', 'CA', 'VN')), stateOfBirthAbbreviation: optText(fc.constantFrom('CA', 'TX', 'NY')),
    cityOfBirth: optText(), publicSchoolResidenceStatus: optText(fc.constantFrom('01652', '01653', '01654')),
  },
  categories: { ...base, title: req('text', textArb) },
  lineItems: {
    ...base, title: req('text', textArb), description: optText(), assignDate: req('text', dateTimeArb), dueDate: req('text', dateTimeArb),
    class: req('ref', ref11('class')), category: req('ref', ref11('category')), gradingPeriod: req('ref', ref11('academicSession')),
    resultValueMin: req('num', num11), resultValueMax: req('num', num11),
  },
  results: {
    ...base, lineItem: req('ref', ref11('lineItem')), student: req('ref', ref11('user')), scoreStatus: req('text', vocab(SCORE_STATUSES, true)),
    score: req('num', num11), scoreDate: req('text', dateArb), comment: optText(),
  },
  resources: {
    ...base, title: optText(), roles: opt('texts', fc.uniqueArray(vocab(V1P1_ROLES, true), { maxLength: 3 })),
    importance: opt('text', fc.constantFrom('primary', 'secondary')), vendorResourceId: req('text', textArb), vendorId: optText(),
    applicationId: optText(),
  },
};

const learningObjectiveSource = fc.constantFrom('case', 'unknown');

/** 1.2 fields per entity (reference §3.2, 1.2 columns). Users' roles and primaryOrg come from rolesArb12. */
export const FIELDS_12: Readonly<Record<V1p1Entity, Table>> = {
  orgs: {
    ...base, name: req('text', textArb), type: req('text', vocab(ORG_TYPES, true)), identifier: req('text', textArb),
    parent: opt('ref', ref12('org')), children: opt('refs', refs12('org')),
  },
  academicSessions: {
    ...base, title: req('text', textArb), startDate: req('text', dateArb), endDate: req('text', dateArb),
    type: req('text', vocab(SESSION_TYPES, true)), parent: opt('ref', ref12('academicSession')),
    children: opt('refs', refs12('academicSession')), schoolYear: req('text', yearArb),
  },
  courses: {
    ...base, title: req('text', textArb), schoolYear: opt('ref', ref12('academicSession')), courseCode: req('text', textArb),
    grades: opt('texts', grades), subjects: opt('texts', texts), org: opt('ref', ref12('org')), subjectCodes: opt('texts', texts),
    resources: opt('refs', refs12('resource')),
  },
  classes: {
    ...base, title: req('text', textArb), classCode: optText(), classType: opt('text', vocab(CLASS_TYPES, true)), location: optText(),
    grades: opt('texts', grades), subjects: opt('texts', texts), course: req('ref', ref12('course')), school: req('ref', ref12('org')),
    terms: req('refs', refs12('academicSession', 1)), subjectCodes: opt('texts', texts), periods: opt('texts', texts),
    resources: opt('refs', refs12('resource')),
  },
  users: {
    ...base, userMasterIdentifier: optText(), username: optText(), userIds: opt('objects', userIds), enabledUser: req('bool', bool12),
    givenName: req('text', textArb), familyName: req('text', textArb), middleName: optText(), preferredFirstName: optText(),
    preferredMiddleName: optText(), preferredLastName: optText(), pronouns: optText(fc.constantFrom('she/her', 'he/him', 'they/them')),
    userProfiles: opt(
      'objects',
      fc.array(
        fc.record(
          {
            profileId: sourcedIdArb.map((id) => `https://apps.example.com/profiles/${encodeURIComponent(id)}`),
            profileType: textArb,
            vendorId: textArb,
            description: textArb,
            credentials: fc.array(fc.record({ type: fc.constantFrom('password', 'sso'), username: textArb }), { maxLength: 2 }),
          },
          { requiredKeys: ['profileId', 'profileType', 'vendorId'] },
        ),
        { maxLength: 2 },
      ),
    ),
    identifier: optText(), email: optText(), sms: optText(), phone: optText(), agents: opt('refs', refs12('user')),
    grades: opt('texts', grades), password: optText(), resources: opt('refs', refs12('resource')),
  },
  enrollments: {
    ...base, user: req('ref', ref12('user')), class: req('ref', ref12('class')), school: req('ref', ref12('org')),
    role: req('text', vocab(ENROLLMENT_ROLES, true)), primary: opt('bool', bool12), beginDate: opt('text', dateArb),
    endDate: opt('text', dateArb),
  },
  demographics: {
    ...base, birthDate: opt('text', dateArb), sex: opt('text', vocab(V1P2_SEX, true)), ...demographicFlags(bool12),
    countryOfBirthCode: optText(fc.constantFrom('US', 'MX', 'CA', 'VN')), stateOfBirthAbbreviation: optText(fc.constantFrom('CA', 'TX', 'NY')),
    cityOfBirth: optText(), publicSchoolResidenceStatus: optText(fc.constantFrom('01652', '01653', '01654')),
  },
  categories: { ...base, title: req('text', textArb), weight: opt('num', fc.integer({ min: 0, max: 100 }).map((n) => n / 100)) },
  lineItems: {
    ...base, title: req('text', textArb), description: optText(), assignDate: req('text', dateTimeArb), dueDate: req('text', dateTimeArb),
    class: req('ref', ref12('class')), school: req('ref', ref12('org')), category: req('ref', ref12('category')),
    gradingPeriod: opt('ref', ref12('academicSession')), academicSession: opt('ref', ref12('academicSession')),
    scoreScale: opt('ref', ref12('scoreScale')), resultValueMin: opt('num', scoreNumber), resultValueMax: opt('num', scoreNumber),
    learningObjectiveSet: opt(
      'objects',
      fc.array(fc.record({ source: learningObjectiveSource, learningObjectiveIds: fc.array(plainId, { minLength: 1, maxLength: 3 }) }), {
        maxLength: 2,
      }),
    ),
  },
  results: {
    ...base, lineItem: req('ref', ref12('lineItem')), student: req('ref', ref12('user')), class: opt('ref', ref12('class')),
    scoreScale: opt('ref', ref12('scoreScale')), scoreStatus: req('text', vocab(SCORE_STATUSES, true)), score: opt('num', scoreNumber),
    textScore: optText(fc.constantFrom('A', 'B+', 'Meets', 'Incomplete')), scoreDate: req('text', dateArb), comment: optText(),
    learningObjectiveSet: opt(
      'objects',
      fc.array(
        fc.record({
          source: learningObjectiveSource,
          learningObjectiveResults: fc.array(fc.record({ learningObjectiveId: plainId, score: scoreNumber }, { requiredKeys: ['learningObjectiveId'] }), {
            minLength: 1,
            maxLength: 2,
          }),
        }),
        { maxLength: 2 },
      ),
    ),
    inProgress: opt('bool', bool12), incomplete: opt('bool', bool12), late: opt('bool', bool12), missing: opt('bool', bool12),
  },
  resources: {
    ...base, title: optText(), roles: opt('texts', fc.uniqueArray(vocab(V1P1_ROLES, true), { maxLength: 3 })),
    importance: opt('text', fc.constantFrom('primary', 'secondary')), vendorResourceId: req('text', textArb), vendorId: optText(),
    applicationId: optText(),
  },
};

/** Every field name a version defines for an entity, per the tables above (users add 1.2 roles and primaryOrg). */
export function fieldNames(version: Version, entity: V1p1Entity): Set<string> {
  const names = new Set(Object.keys((version === 'v1p1' ? FIELDS_11 : FIELDS_12)[entity]));
  if (version === 'v1p2' && entity === 'users') {
    names.add('roles');
    names.add('primaryOrg');
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

export interface RecordOptions {
  /** Keys that must be present although the version makes them optional. */
  require?: readonly string[];
  /** Per-field replacement arbitraries (e.g. a narrower vocabulary). */
  override?: Readonly<Record<string, fc.Arbitrary<unknown>>>;
  /** Optional free text may be '' (what 1.1 servers send for "no value"). */
  emptyOptionalText?: boolean;
}

function recordOf(table: Table, options: RecordOptions): fc.Arbitrary<Json> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  const requiredKeys: string[] = [];
  for (const [key, def] of Object.entries(table)) {
    const override = options.override?.[key];
    if (override) model[key] = override;
    else if (def.optionalText && options.emptyOptionalText) model[key] = fc.oneof({ weight: 3, arbitrary: def.arb }, { weight: 1, arbitrary: fc.constant('') });
    else model[key] = def.arb;
    if (def.required || options.require?.includes(key)) requiredKeys.push(key);
  }
  return fc.record(model, { requiredKeys }) as fc.Arbitrary<Json>;
}

export function record11(entity: V1p1Entity, options: RecordOptions = {}): fc.Arbitrary<Json> {
  return recordOf(FIELDS_11[entity], options);
}

/**
 * 1.2 roles and primaryOrg: one primary role per org (the 1.2 rule), some secondary roles at the
 * same orgs, role dates, and a primaryOrg (one of the orgs) or none.
 */
export const rolesArb12: fc.Arbitrary<Json> = fc
  .uniqueArray(ref12('org'), { minLength: 1, maxLength: 3, selector: (r) => r.sourcedId })
  .chain((orgs) => {
    const entry = (roleType: string, org: Json) =>
      fc
        .record(
          { role: vocab(V1P2_ROLES, true), beginDate: dateArb, endDate: dateArb, userProfile: sourcedIdArb.map((id) => `https://apps.example.com/profiles/${encodeURIComponent(id)}`) },
          { requiredKeys: ['role'] },
        )
        .map((r) => ({ roleType, ...r, org }));
    const primaries = fc.tuple(...orgs.map((org) => entry('primary', org)));
    const secondaries = fc.array(fc.constantFrom(...orgs).chain((org) => entry('secondary', org)), { maxLength: 2 });
    return fc.record(
      { roles: fc.tuple(primaries, secondaries).map(([p, s]) => [...p, ...s]), primaryOrg: fc.constantFrom(...orgs) },
      { requiredKeys: ['roles'] },
    );
  });

export function record12(entity: V1p1Entity, options: RecordOptions = {}): fc.Arbitrary<Json> {
  const rec = recordOf(FIELDS_12[entity], options);
  if (entity !== 'users') return rec;
  return fc.tuple(rec, rolesArb12).map(([r, roles]) => ({ ...r, ...roles }));
}
