// Users (students, teachers, administrators, parents/guardians), their enrollments and the
// students' demographics. Roles are shuffled over the id range so every page mixes them.

import { addDays, modifiedBefore, SCHOOL_YEAR } from './generate-dates.js';
import { CITIES, FAMILY_NAMES, GIVEN_NAMES, MIDDLE_INITIALS } from './generate-names.js';
import { DISTRICT_ID, type RosterSkeleton, type School } from './generate-roster.js';
import { intBetween, pad, pick, sample, streamFor, type Rng } from './prng.js';
import type { ClassRecord, DemographicsRecord, EnrollmentRecord, UserRecord, UserRole } from './records.js';

const CLASSES_PER_STUDENT = 6;
const DELETED_SHARE = 0.02;

export interface People {
  users: UserRecord[];
  enrollments: EnrollmentRecord[];
  demographics: DemographicsRecord[];
}

export function generatePeople(seed: number, total: number, skeleton: RosterSkeleton): People {
  const rng = streamFor(seed, 'users');
  const roles = shuffledRoles(rng, total);
  const width = Math.max(5, String(total).length);
  const users = roles.map((role, i) => makeUser(rng, `usr-${pad(i + 1, width)}`, role, i, skeleton));
  linkGuardians(rng, users);
  const deleted = new Map(markSomeDeleted(rng, users).map((u) => [u.sourcedId, { ...u, enabledUser: 'false' as const }]));
  const final = users.map((u) => deleted.get(u.sourcedId) ?? u);
  return {
    users: final,
    enrollments: generateEnrollments(streamFor(seed, 'enrollments'), final, skeleton.classes),
    demographics: generateDemographics(streamFor(seed, 'demographics'), final),
  };
}

/** ~88% students, ~8% teachers, ~1% administrators, the rest parents and guardians. */
function shuffledRoles(rng: Rng, total: number): UserRole[] {
  const admins = Math.max(1, Math.round(total * 0.01));
  const teachers = Math.max(1, Math.round(total * 0.08));
  const parents = Math.round(total * 0.03);
  const students = Math.max(1, total - admins - teachers - parents);
  const roles: UserRole[] = [
    ...Array<UserRole>(admins).fill('administrator'),
    ...Array<UserRole>(teachers).fill('teacher'),
    ...Array.from({ length: parents }, (): UserRole => (rng() < 0.75 ? 'parent' : 'guardian')),
    ...Array<UserRole>(students).fill('student'),
  ];
  return sample(rng, roles, roles.length);
}

function makeUser(rng: Rng, sourcedId: string, role: UserRole, index: number, sk: RosterSkeleton): UserRecord {
  const givenName = pick(rng, GIVEN_NAMES);
  const familyName = pick(rng, FAMILY_NAMES);
  const school = pick(rng, sk.schools);
  const student = role === 'student';
  const handle = `${givenName}.${familyName}`.toLowerCase().replace(/[^a-z.]/g, '');
  const username = `${handle}${index + 1}`;
  const identifier = student ? `S${pad(100000 + index, 6)}` : `E${pad(10000 + index, 5)}`;
  return {
    sourcedId,
    status: 'active',
    dateLastModified: modifiedBefore(rng),
    username,
    userIds: [{ type: student ? 'studentNumber' : 'employeeId', identifier }],
    enabledUser: 'true',
    givenName,
    familyName,
    ...(rng() < 0.5 ? { middleName: pick(rng, MIDDLE_INITIALS) } : {}),
    ...(rng() < 0.1 ? { preferredFirstName: pick(rng, GIVEN_NAMES) } : {}),
    ...(rng() < 0.05 ? { pronouns: pick(rng, ['she/her', 'he/him', 'they/them']) } : {}),
    userMasterIdentifier: `UMI-${identifier}`,
    role,
    orgIds: orgsFor(rng, role, school, sk.schools),
    identifier,
    email: student ? `${username}@students.${sk.domain}` : `${username}@${sk.domain}`,
    ...(role === 'parent' || role === 'guardian' ? { phone: `+1555${pad(intBetween(rng, 0, 9999999), 7)}` } : {}),
    agentIds: [],
    grades: student ? [pick(rng, school.template.grades)] : [],
    resourceIds: role === 'teacher' && rng() < 0.2 ? [pick(rng, sk.resources).sourcedId] : [],
  };
}

/** Some administrators work at the district office, the rest at a school; some teachers work at two schools. */
function orgsFor(rng: Rng, role: UserRole, school: School, schools: School[]): string[] {
  if (role === 'administrator' && rng() < 0.4) return [DISTRICT_ID];
  if (role === 'teacher' && schools.length > 1 && rng() < 0.15) {
    const other = pick(rng, schools.filter((s) => s !== school));
    return [school.record.sourcedId, other.record.sourcedId];
  }
  return [school.record.sourcedId];
}

/** Each parent/guardian gets one or two students (siblings) as agents, and vice versa. */
function linkGuardians(rng: Rng, users: UserRecord[]): void {
  const studentAt = users.flatMap((u, i) => (u.role === 'student' ? [i] : []));
  if (studentAt.length === 0) return;
  for (let i = 0; i < users.length; i++) {
    const parent = users[i] as UserRecord;
    if (parent.role !== 'parent' && parent.role !== 'guardian') continue;
    const kidsAt = [pick(rng, studentAt)];
    const sibling = pick(rng, studentAt);
    if (rng() < 0.3 && sibling !== kidsAt[0]) kidsAt.push(sibling);
    const first = users[kidsAt[0] as number] as UserRecord;
    users[i] = { ...parent, agentIds: kidsAt.map((k) => (users[k] as UserRecord).sourcedId), orgIds: first.orgIds };
    for (const k of kidsAt) {
      const kid = users[k] as UserRecord;
      users[k] = { ...kid, agentIds: [...kid.agentIds, parent.sourcedId] };
    }
  }
}

function markSomeDeleted<T extends { status: string; dateLastModified: string }>(rng: Rng, rows: readonly T[]): T[] {
  const k = rows.length === 0 ? 0 : Math.max(1, Math.round(rows.length * DELETED_SHARE));
  return sample(rng, rows, k).map((r) => ({ ...r, status: 'tobedeleted', dateLastModified: modifiedBefore(rng, 60) }));
}

function generateEnrollments(rng: Rng, users: UserRecord[], classes: ClassRecord[]): EnrollmentRecord[] {
  const bySchool = new Map<string, ClassRecord[]>();
  for (const c of classes) bySchool.set(c.schoolId, [...(bySchool.get(c.schoolId) ?? []), c]);
  const teachers = users.filter((u) => u.role === 'teacher');
  const students = users.filter((u) => u.role === 'student');
  // Ids are numbered in creation order; the width must be known up front (no re-mapping of 1M rows).
  const width = Math.max(6, String(classes.length * 2 + students.length * CLASSES_PER_STUDENT).length);
  const rows: EnrollmentRecord[] = [];
  const add = (userId: string, c: ClassRecord, role: 'student' | 'teacher', primary: boolean): void => {
    rows.push(enrollment(rng, `enr-${pad(rows.length + 1, width)}`, userId, c, role, primary));
  };
  for (const c of classes) {
    const local = teachers.filter((t) => t.orgIds.includes(c.schoolId));
    const chosen = sample(rng, local.length > 0 ? local : teachers, rng() < 0.3 ? 2 : 1);
    chosen.forEach((t, i) => add(t.sourcedId, c, 'teacher', i === 0));
  }
  for (const u of students) {
    for (const c of sample(rng, bySchool.get(u.orgIds[0] ?? '') ?? [], CLASSES_PER_STUDENT)) add(u.sourcedId, c, 'student', false);
  }
  for (const r of markSomeDeleted(rng, rows)) rows[Number(r.sourcedId.slice(4)) - 1] = r;
  return rows;
}

function enrollment(rng: Rng, sourcedId: string, userId: string, c: ClassRecord, role: 'student' | 'teacher', primary: boolean): EnrollmentRecord {
  const terms = SCHOOL_YEAR.terms.filter((t) => c.termIds.includes(t.id));
  return {
    sourcedId,
    status: 'active',
    dateLastModified: modifiedBefore(rng),
    userId,
    classId: c.sourcedId,
    schoolId: c.schoolId,
    role,
    primary: primary ? 'true' : 'false',
    beginDate: terms[0]?.startDate ?? SCHOOL_YEAR.startDate,
    endDate: terms[terms.length - 1]?.endDate ?? SCHOOL_YEAR.endDate,
  };
}

const GRADE_AGE: Record<string, number> = { KG: 5 };

function generateDemographics(rng: Rng, users: UserRecord[]): DemographicsRecord[] {
  return users
    .filter((u) => u.role === 'student')
    .map((u) => {
      const grade = u.grades[0] ?? '09';
      const age = GRADE_AGE[grade] ?? Number(grade) + 5;
      const [city, state] = pick(rng, CITIES);
      const race = pick(rng, ['white', 'asian', 'blackOrAfricanAmerican', 'americanIndianOrAlaskaNative', 'nativeHawaiianOrOtherPacificIslander', 'twoOrMore']);
      const flag = (name: string): 'true' | 'false' => (race === name ? 'true' : 'false');
      return {
        sourcedId: u.sourcedId, // the spec asks demographics to share the user's sourcedId
        status: u.status,
        dateLastModified: modifiedBefore(rng),
        birthDate: addDays(`${2024 - age}-09-01`, intBetween(rng, 0, 364)),
        sex: rng() < 0.5 ? 'female' : 'male',
        americanIndianOrAlaskaNative: flag('americanIndianOrAlaskaNative'),
        asian: flag('asian'),
        blackOrAfricanAmerican: flag('blackOrAfricanAmerican'),
        nativeHawaiianOrOtherPacificIslander: flag('nativeHawaiianOrOtherPacificIslander'),
        white: flag('white'),
        demographicRaceTwoOrMoreRaces: flag('twoOrMore'),
        hispanicOrLatinoEthnicity: rng() < 0.25 ? 'true' : 'false',
        countryOfBirthCode: 'US',
        stateOfBirthAbbreviation: state,
        cityOfBirth: city,
        publicSchoolResidenceStatus: '01652', // CEDS "Resident of administrative unit and usual school attendance area"
      };
    });
}
