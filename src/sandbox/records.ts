// The sandbox's own, version-neutral data model. References are plain sourcedIds; the
// v1p1 and v1p2 renderers turn them into GUIDRefs with hrefs. Fields that exist in only
// one version (1.2 preferred names, category weight, result flags...) live here too and
// are simply not rendered by the other version.

export type Status = 'active' | 'tobedeleted';
/** OneRoster booleans are the strings "true" / "false". */
export type BoolString = 'true' | 'false';

export interface BaseRecord {
  readonly sourcedId: string;
  readonly status: Status;
  readonly dateLastModified: string; // ISO 8601 UTC with Z
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export type OrgType = 'district' | 'school' | 'department' | 'local' | 'national' | 'state';
export interface OrgRecord extends BaseRecord {
  readonly name: string;
  readonly type: OrgType;
  readonly identifier: string;
  readonly parentId?: string;
}

export type SessionType = 'schoolYear' | 'semester' | 'term' | 'gradingPeriod';
export interface AcademicSessionRecord extends BaseRecord {
  readonly title: string;
  readonly type: SessionType;
  readonly startDate: string; // YYYY-MM-DD
  readonly endDate: string;
  readonly schoolYear: string; // YYYY, the year the school year ends
  readonly parentId?: string;
}

export interface CourseRecord extends BaseRecord {
  readonly title: string;
  readonly courseCode: string;
  readonly schoolYearId: string;
  readonly orgId: string;
  readonly grades: readonly string[];
  readonly subjects: readonly string[];
  readonly subjectCodes: readonly string[];
  readonly resourceIds: readonly string[];
}

export interface ClassRecord extends BaseRecord {
  readonly title: string;
  readonly classCode: string;
  readonly classType: 'homeroom' | 'scheduled';
  readonly location: string;
  readonly grades: readonly string[];
  readonly subjects: readonly string[];
  readonly subjectCodes: readonly string[];
  readonly periods: readonly string[];
  readonly courseId: string;
  readonly schoolId: string;
  readonly termIds: readonly string[];
  readonly resourceIds: readonly string[];
}

/** 1.1 role words plus the 1.2-only ones; each renderer maps what its version lacks. */
export type UserRole =
  | 'student' | 'teacher' | 'administrator' | 'parent' | 'guardian' | 'aide' | 'proctor' | 'relative'
  | 'counselor' | 'principal' | 'districtAdministrator' | 'siteAdministrator' | 'systemAdministrator';

export interface UserRecord extends BaseRecord {
  readonly username: string;
  readonly userIds: readonly { readonly type: string; readonly identifier: string }[];
  readonly enabledUser: BoolString;
  readonly givenName: string;
  readonly familyName: string;
  readonly middleName?: string;
  readonly preferredFirstName?: string; // 1.2 only
  readonly pronouns?: string; // 1.2 only
  readonly userMasterIdentifier?: string; // 1.2 only
  readonly role: UserRole;
  readonly orgIds: readonly string[]; // first one is the primary org
  readonly identifier: string;
  readonly email: string;
  readonly sms?: string;
  readonly phone?: string;
  readonly agentIds: readonly string[];
  readonly grades: readonly string[];
  readonly resourceIds: readonly string[]; // 1.2 only
}

export type EnrollmentRole = 'student' | 'teacher' | 'administrator' | 'proctor' | 'aide';
export interface EnrollmentRecord extends BaseRecord {
  readonly userId: string;
  readonly classId: string;
  readonly schoolId: string;
  readonly role: EnrollmentRole;
  readonly primary: BoolString;
  readonly beginDate?: string;
  readonly endDate?: string;
}

export interface DemographicsRecord extends BaseRecord {
  readonly birthDate: string;
  readonly sex: 'male' | 'female' | 'other' | 'unspecified';
  readonly americanIndianOrAlaskaNative: BoolString;
  readonly asian: BoolString;
  readonly blackOrAfricanAmerican: BoolString;
  readonly nativeHawaiianOrOtherPacificIslander: BoolString;
  readonly white: BoolString;
  readonly demographicRaceTwoOrMoreRaces: BoolString;
  readonly hispanicOrLatinoEthnicity: BoolString;
  readonly countryOfBirthCode: string;
  readonly stateOfBirthAbbreviation: string;
  readonly cityOfBirth: string;
  readonly publicSchoolResidenceStatus: string;
}

export interface CategoryRecord extends BaseRecord {
  readonly title: string;
  readonly weight?: number; // 1.2 only
}

export interface LineItemRecord extends BaseRecord {
  readonly title: string;
  readonly description?: string;
  readonly assignDate: string;
  readonly dueDate: string;
  readonly classId: string;
  readonly schoolId: string; // 1.2 only (1.1 derives nothing from it)
  readonly categoryId: string;
  readonly gradingPeriodId?: string;
  readonly academicSessionId?: string; // 1.2 only
  readonly scoreScaleId?: string; // 1.2 only
  readonly resultValueMin?: number;
  readonly resultValueMax?: number;
}

export type ScoreStatus = 'exempt' | 'fully graded' | 'not submitted' | 'partially graded' | 'submitted';
interface ResultFlags {
  readonly inProgress?: BoolString;
  readonly incomplete?: BoolString;
  readonly late?: BoolString;
  readonly missing?: BoolString;
}

export interface ResultRecord extends BaseRecord, ResultFlags {
  readonly lineItemId: string;
  readonly studentId: string;
  readonly classId?: string; // 1.2 only
  readonly scoreScaleId?: string; // 1.2 only
  readonly scoreStatus: string;
  readonly score?: number;
  readonly textScore?: string; // 1.2 only
  readonly scoreDate: string;
  readonly comment?: string;
}

export interface ResourceRecord extends BaseRecord {
  readonly title: string;
  readonly roles: readonly string[];
  readonly importance: 'primary' | 'secondary';
  readonly vendorResourceId: string;
  readonly vendorId: string;
  readonly applicationId: string;
}

export interface ScoreScaleRecord extends BaseRecord {
  readonly title: string;
  readonly type: string;
  readonly courseId?: string;
  readonly classId: string;
  readonly scoreScaleValue: readonly { readonly itemValueLHS: string; readonly itemValueRHS: string }[];
}

export interface AssessmentLineItemRecord extends BaseRecord {
  readonly title: string;
  readonly description?: string;
  readonly classId?: string;
  readonly parentId?: string;
  readonly scoreScaleId?: string;
  readonly resultValueMin?: number;
  readonly resultValueMax?: number;
}

export interface AssessmentResultRecord extends BaseRecord, ResultFlags {
  readonly assessmentLineItemId: string;
  readonly studentId: string;
  readonly scoreStatus: string;
  readonly score?: number;
  readonly textScore?: string;
  readonly scoreDate: string;
  readonly scoreScaleId?: string;
  readonly scorePercentile?: number;
  readonly comment?: string;
}

export interface RecordTypes {
  orgs: OrgRecord;
  academicSessions: AcademicSessionRecord;
  courses: CourseRecord;
  classes: ClassRecord;
  users: UserRecord;
  enrollments: EnrollmentRecord;
  demographics: DemographicsRecord;
  categories: CategoryRecord;
  lineItems: LineItemRecord;
  results: ResultRecord;
  resources: ResourceRecord;
  scoreScales: ScoreScaleRecord;
  assessmentLineItems: AssessmentLineItemRecord;
  assessmentResults: AssessmentResultRecord;
}

export type CollectionName = keyof RecordTypes;
export type AnyRecord = RecordTypes[CollectionName];

export const COLLECTIONS: readonly CollectionName[] = [
  'orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments', 'demographics',
  'categories', 'lineItems', 'results', 'resources', 'scoreScales', 'assessmentLineItems', 'assessmentResults',
];

/** The mutable part of a record: everything except its identity. */
export type RecordPatch<C extends CollectionName> = Partial<Omit<RecordTypes[C], 'sourcedId'>>;
