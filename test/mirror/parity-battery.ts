// The query battery of the mirror parity suite: every rostering collection and alias, single
// objects (found, unknown, of the wrong kind), every relationship route with real and unknown
// parents, and the query language (each predicate, AND / OR, dotted fields, sort, fields,
// paging) — written in one path version, with ids picked from the district's own data.
//
// Left out on purpose, because the gateway decides them for every district before any
// district (or mirror) is asked, and a sandbox answers otherwise:
// - an unknown or dotted `sort` field: the gateway answers 400 invalid_sort_field (or sorts by
//   the dotted path), the sandbox, like 1.1 servers and Ed-Fi, falls back to sourcedId;
// - lower-case `and` / `or` in a filter: the gateway's parser accepts them, the sandbox 400s;
// - a quote inside a filter value (O'Brien): the gateway's grammar ends a value at the next
//   quote, the sandbox at a quote followed by the end or a logical operator;
// - unknown filter or fields names: 400 from the gateway's route plan (the mirror is never
//   asked), so nothing about the mirror would be compared; so is a path through a GUIDRef
//   inside a structure (`roles.org.sourcedId`): the gateway's model stops at `roles.org`.
import type { Version } from '../../src/core/oneroster/endpoints.js';
import type { SandboxStore } from '../../src/sandbox/index.js';
import { enc } from '../sandbox/helpers.js';

/** Ids and values picked from one district's data. */
export interface Picks {
  district: string;
  school: string;
  otherSchool: string;
  /** A class at `school` with students and teachers, and one at `otherSchool`. */
  klass: string;
  otherClass: string;
  course: string;
  term: string;
  gradingPeriod: string;
  student: string;
  teacher: string;
  /** A user with no enrollment (a parent or an administrator). */
  bystander: string;
  enrollment: string;
  demographics: string;
  familyName: string;
  /** A family name shared by several users, and a second one. */
  commonFamilyName: string;
}

export const UNKNOWN = 'no-such-id-0000';

export function pick(store: SandboxStore): Picks {
  const users = store.list('users');
  const classes = store.list('classes');
  const enrollments = store.list('enrollments').filter((e) => e.status === 'active');
  const schools = store.list('orgs').filter((o) => o.type === 'school');
  const withBoth = (c: { sourcedId: string }) => ['student', 'teacher'].every((role) => enrollments.some((e) => e.classId === c.sourcedId && e.role === role));
  const klass = classes.find((c) => c.schoolId === schools[0]!.sourcedId && withBoth(c))!;
  const otherClass = classes.find((c) => c.schoolId !== klass.schoolId && withBoth(c))!;
  const enrolled = new Set(enrollments.map((e) => e.userId));
  const byName = new Map<string, number>();
  // A quote inside a filter value is read differently by the gateway and the sandbox (above).
  for (const u of users) if (!u.familyName.includes("'")) byName.set(u.familyName, (byName.get(u.familyName) ?? 0) + 1);
  const names = [...byName].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const student = users.find((u) => u.role === 'student' && enrollments.filter((e) => e.userId === u.sourcedId).length > 2)!;
  return {
    district: store.list('orgs').find((o) => o.type === 'district')!.sourcedId,
    school: klass.schoolId,
    otherSchool: otherClass.schoolId,
    klass: klass.sourcedId,
    otherClass: otherClass.sourcedId,
    course: klass.courseId,
    term: store.list('academicSessions').find((s) => s.type === 'term')!.sourcedId,
    gradingPeriod: store.list('academicSessions').find((s) => s.type === 'gradingPeriod')!.sourcedId,
    student: student.sourcedId,
    teacher: users.find((u) => u.role === 'teacher' && enrolled.has(u.sourcedId))!.sourcedId,
    bystander: users.find((u) => !enrolled.has(u.sourcedId))!.sourcedId,
    enrollment: enrollments[Math.floor(enrollments.length / 2)]!.sourcedId,
    demographics: store.list('demographics')[3]!.sourcedId,
    familyName: names[Math.floor(names.length / 2)]![0],
    commonFamilyName: names[0]![0],
  };
}

/** `path?query` with each value RFC 3986-encoded (quotes %27, spaces %20), as careful clients send it. */
export function q(path: string, params: Record<string, string | number> = {}): string {
  const query = Object.entries(params).map(([k, v]) => `${k}=${enc(String(v))}`).join('&');
  return query ? `${path}?${query}` : path;
}

const COLLECTIONS = ['/orgs', '/schools', '/academicSessions', '/terms', '/gradingPeriods', '/courses', '/classes', '/users', '/students', '/teachers', '/enrollments', '/demographics'];

/** Paging, sorting and the filters every entity has, on every collection and alias. */
function everyCollection(): string[] {
  return COLLECTIONS.flatMap((c) => [
    q(c),
    q(c, { limit: 1 }),
    q(c, { limit: 7, offset: 3 }),
    q(c, { limit: 100, offset: 50 }),
    q(c, { limit: 1000 }),
    q(c, { limit: 5000 }),
    q(c, { limit: 10, offset: 100_000 }),
    q(c, { offset: 5 }),
    q(c, { sort: 'dateLastModified' }),
    q(c, { sort: 'dateLastModified', orderBy: 'desc', limit: 25, offset: 10 }),
    q(c, { sort: 'sourcedId', orderBy: 'desc', limit: 9 }),
    q(c, { filter: "status='active'" }),
    q(c, { filter: "dateLastModified>'2025-01-01'", limit: 20 }),
    q(c, { filter: "dateLastModified<='2024-12-31T23:59:59.999Z' AND status='active'", sort: 'dateLastModified' }),
    q(c, { fields: 'sourcedId,status' }),
    q(c, { fields: 'sourcedId,dateLastModified', filter: "sourcedId~'0'", limit: 11, offset: 11 }),
  ]);
}

/** Users (and their aliases): names, every predicate, the version's own role fields. */
function userQueries(v: Version, p: Picks): string[] {
  const common = ['/users', '/students', '/teachers'].flatMap((c) => [
    q(c, { filter: `familyName='${p.commonFamilyName}'` }),
    q(c, { filter: `familyName!='${p.commonFamilyName}'`, limit: 500 }),
    q(c, { filter: `familyName>'${p.familyName}'`, sort: 'familyName' }),
    q(c, { filter: `familyName>='${p.familyName}'`, sort: 'familyName', orderBy: 'desc' }),
    q(c, { filter: `familyName<'${p.familyName}'`, limit: 7, offset: 7 }),
    q(c, { filter: `familyName<='${p.familyName}'` }),
    q(c, { filter: "familyName~'SON'" }),
    q(c, { filter: `givenName~'a' AND familyName<'${p.familyName}'` }),
    q(c, { filter: `familyName='${p.commonFamilyName}' OR familyName='${p.familyName}'`, sort: 'givenName' }),
    q(c, { filter: `familyName='${p.commonFamilyName}' OR givenName~'e' AND enabledUser='true'`, limit: 30 }),
    q(c, { sort: 'familyName' }),
    q(c, { sort: 'familyName', orderBy: 'desc', limit: 50, offset: 20 }),
    q(c, { sort: 'givenName', limit: 20, offset: 40 }),
    q(c, { sort: 'email', orderBy: 'desc' }),
    q(c, { sort: 'middleName' }),
    q(c, { sort: 'grades', limit: 40 }),
    q(c, { fields: 'sourcedId,givenName,familyName', sort: 'familyName', limit: 15 }),
    q(c, { filter: "grades='09'" }),
    q(c, { filter: "userIds.type='studentNumber'", limit: 10 }),
    q(c, { filter: "email~'K12'", limit: 5 }),
    q(c, { filter: `familyName = '${p.familyName}'  OR  givenName <= 'B'`, sort: 'familyName', orderBy: 'asc' }),
  ]);
  const own =
    v === 'v1p1'
      ? [
          q('/users', { filter: "role='teacher'" }),
          q('/users', { filter: "role='administrator' OR role='aide'" }),
          q('/users', { filter: `orgs.sourcedId='${p.school}'` }),
          q('/users', { filter: `role='student' AND orgs.sourcedId='${p.otherSchool}'`, limit: 10 }),
          q('/users', { filter: `role='student' AND familyName>'${p.familyName}' AND givenName<'T'` }),
          q('/users', { filter: `orgs.sourcedId!='${p.district}'` }),
          q('/users', { filter: `orgs='${p.school}'`, limit: 20 }),
          q('/users', { sort: 'role', limit: 60 }),
          q('/users', { sort: 'orgs', orderBy: 'desc', limit: 60 }),
          q('/users', { filter: "sms=''", limit: 5 }),
          // Cross-version: the filter is evaluated at the gateway, the sort still the district's.
          q('/users', { filter: `orgs.sourcedId='${p.school}'`, sort: 'givenName', orderBy: 'desc', limit: 30 }),
          q('/teachers', { fields: 'sourcedId,role,orgs' }),
          q(`/classes/${p.klass}/teachers`, { filter: "role='teacher'", fields: 'sourcedId,role' }),
          q(`/schools/${p.school}/students`, { filter: "role='student' AND givenName>'K'", sort: 'familyName', limit: 10 }),
        ]
      : [
          q('/users', { filter: "roles.role='teacher'" }),
          q('/users', { filter: "roles.role='districtAdministrator' OR roles.role='siteAdministrator'" }),
          q('/users', { filter: `roles.org='${p.school}'` }),
          q('/users', { filter: `roles.role='student' AND roles.org='${p.otherSchool}'`, limit: 10 }),
          q('/users', { filter: `primaryOrg.sourcedId='${p.school}'` }),
          q('/users', { filter: `roles.role='student' AND familyName>'${p.familyName}' AND givenName<'T'` }),
          q('/users', { filter: `roles.org!='${p.district}'`, limit: 20 }),
          q('/users', { filter: "roles.roleType='primary' AND pronouns~'they'", limit: 20 }),
          q('/users', { sort: 'primaryOrg', limit: 60 }),
          q('/users', { filter: `roles.org='${p.school}'`, sort: 'familyName', orderBy: 'desc', limit: 30 }),
          q('/users', { filter: "roles.role='aide' OR roles.role='siteAdministrator'", sort: 'email' }),
          q('/users', { sort: 'preferredFirstName', orderBy: 'desc', limit: 60 }),
          q('/teachers', { fields: 'sourcedId,roles,primaryOrg' }),
          q(`/classes/${p.klass}/students`, { filter: "roles.role='student'", sort: 'familyName' }),
          q(`/schools/${p.school}/teachers`, { filter: "roles.roleType='primary'", sort: 'givenName', orderBy: 'desc', limit: 10 }),
        ];
  return [...common, ...own];
}

/** The other entities' own fields. */
function entityQueries(p: Picks): string[] {
  return [
    q('/orgs', { filter: "type='school'" }),
    q('/orgs', { filter: "name~'high' OR type='district'" }),
    q('/orgs', { filter: `parent.sourcedId='${p.district}'`, sort: 'name' }),
    q('/orgs', { sort: 'type', orderBy: 'desc' }),
    q('/orgs', { sort: 'parent' }),
    q('/schools', { filter: "identifier>='0'", fields: 'sourcedId,name,identifier' }),
    q('/academicSessions', { filter: "type='gradingPeriod'", sort: 'startDate', orderBy: 'desc' }),
    q('/academicSessions', { filter: `parent.sourcedId='${p.term}'` }),
    q('/academicSessions', { filter: "startDate>'2025-01-01' AND schoolYear='2025'" }),
    q('/academicSessions', { filter: "title~'quarter'", sort: 'title' }),
    q('/terms', { sort: 'endDate', orderBy: 'desc' }),
    q('/gradingPeriods', { filter: `parent='${p.term}'` }),
    q('/courses', { filter: `org.sourcedId='${p.school}'`, sort: 'title' }),
    q('/courses', { filter: "courseCode~'-' AND schoolYear.sourcedId!='x'", sort: 'courseCode', orderBy: 'desc' }),
    q('/courses', { filter: "grades='10' OR grades='K'" }),
    q('/courses', { sort: 'org', limit: 8 }),
    q('/classes', { filter: `school.sourcedId='${p.school}'` }),
    q('/classes', { filter: `course.sourcedId='${p.course}'` }),
    q('/classes', { filter: `terms.sourcedId='${p.term}'`, sort: 'title' }),
    q('/classes', { filter: "classType='homeroom'" }),
    q('/classes', { filter: "title~'period 3' OR periods='5'", sort: 'classCode', orderBy: 'desc' }),
    q('/classes', { filter: `school='${p.otherSchool}'` }),
    q('/classes', { sort: 'location', limit: 12, offset: 6 }),
    q('/classes', { sort: 'course', orderBy: 'desc' }),
    q('/classes', { sort: 'terms' }),
    q('/classes', { fields: 'sourcedId,title,school,terms', limit: 5 }),
    q('/enrollments', { filter: `class.sourcedId='${p.klass}'` }),
    q('/enrollments', { filter: `user.sourcedId='${p.student}'`, sort: 'beginDate' }),
    q('/enrollments', { filter: "role='teacher' AND primary='true'" }),
    q('/enrollments', { filter: `role='student' AND class.sourcedId='${p.otherClass}'` }),
    q('/enrollments', { filter: `school.sourcedId='${p.otherSchool}' OR role='teacher'`, limit: 50, offset: 25 }),
    q('/enrollments', { filter: "beginDate>='2024-09-01'" }),
    q('/enrollments', { filter: "endDate<'2025-01-01'" }),
    q('/enrollments', { filter: "status='tobedeleted'" }),
    q('/enrollments', { sort: 'role', orderBy: 'desc', limit: 100 }),
    q('/enrollments', { sort: 'endDate', limit: 100 }),
    q('/enrollments', { sort: 'user', limit: 100 }),
    q('/demographics', { filter: "sex='female'" }),
    q('/demographics', { filter: "birthDate<'2010-01-01'", sort: 'birthDate' }),
    q('/demographics', { filter: "hispanicOrLatinoEthnicity='true' AND sex!='male'" }),
  ];
}

function singles(p: Picks): string[] {
  return [
    q(`/orgs/${p.district}`), q(`/orgs/${p.school}`), q(`/orgs/${UNKNOWN}`),
    q(`/schools/${p.school}`), q(`/schools/${p.district}`), q(`/schools/${UNKNOWN}`),
    q(`/academicSessions/${p.term}`), q(`/academicSessions/${UNKNOWN}`),
    q(`/terms/${p.term}`), q(`/terms/${p.gradingPeriod}`), q(`/gradingPeriods/${p.gradingPeriod}`), q(`/gradingPeriods/${p.term}`),
    q(`/courses/${p.course}`), q(`/courses/${UNKNOWN}`),
    q(`/classes/${p.klass}`), q(`/classes/${UNKNOWN}`), q(`/classes/${p.klass}`, { fields: 'title,school' }),
    q(`/users/${p.student}`), q(`/users/${p.teacher}`), q(`/users/${p.bystander}`), q(`/users/${UNKNOWN}`),
    q(`/users/${p.student}`, { fields: 'sourcedId,familyName' }),
    q(`/students/${p.student}`), q(`/students/${p.teacher}`), q(`/students/${UNKNOWN}`),
    q(`/teachers/${p.teacher}`), q(`/teachers/${p.student}`),
    q(`/enrollments/${p.enrollment}`), q(`/enrollments/${UNKNOWN}`),
    q(`/demographics/${p.demographics}`), q(`/demographics/${UNKNOWN}`), q(`/demographics/${p.demographics}`, { fields: 'sex,birthDate' }),
  ];
}

function relationships(p: Picks): string[] {
  const routes = [
    `/classes/${p.klass}/students`, `/classes/${p.klass}/teachers`, `/classes/${UNKNOWN}/students`, `/classes/${UNKNOWN}/teachers`,
    `/courses/${p.course}/classes`, `/courses/${UNKNOWN}/classes`,
    `/schools/${p.school}/classes`, `/schools/${p.school}/courses`, `/schools/${p.school}/enrollments`,
    `/schools/${p.school}/students`, `/schools/${p.school}/teachers`, `/schools/${p.school}/terms`,
    `/schools/${p.district}/terms`, `/schools/${p.district}/classes`, `/schools/${p.district}/students`, `/schools/${p.district}/enrollments`, `/schools/${UNKNOWN}/terms`, `/schools/${UNKNOWN}/students`,
    `/schools/${p.school}/classes/${p.klass}/enrollments`, `/schools/${p.school}/classes/${p.klass}/students`, `/schools/${p.school}/classes/${p.klass}/teachers`,
    `/schools/${UNKNOWN}/classes`, `/schools/${UNKNOWN}/courses`, `/schools/${UNKNOWN}/enrollments`, `/schools/${UNKNOWN}/teachers`,
    `/schools/${p.school}/classes/${p.otherClass}/enrollments`, `/schools/${p.school}/classes/${p.otherClass}/students`,
    `/schools/${p.otherSchool}/classes/${p.otherClass}/teachers`, `/schools/${UNKNOWN}/classes/${p.klass}/students`,
    `/schools/${p.school}/classes/${UNKNOWN}/enrollments`, `/schools/${p.school}/classes/${UNKNOWN}/teachers`,
    `/students/${p.student}/classes`, `/students/${p.teacher}/classes`, `/students/${UNKNOWN}/classes`,
    `/teachers/${p.teacher}/classes`, `/teachers/${p.student}/classes`, `/teachers/${UNKNOWN}/classes`,
    `/terms/${p.term}/classes`, `/terms/${p.term}/gradingPeriods`, `/terms/${p.gradingPeriod}/gradingPeriods`, `/terms/${UNKNOWN}/classes`,
    `/terms/${UNKNOWN}/gradingPeriods`,
    `/users/${p.student}/classes`, `/users/${p.teacher}/classes`, `/users/${p.bystander}/classes`, `/users/${UNKNOWN}/classes`,
  ];
  return [
    ...routes.map((r) => q(r)),
    ...routes.map((r) => q(r, { limit: 2, offset: 1, sort: 'dateLastModified', orderBy: 'desc' })),
    q(`/schools/${p.school}/students`, { sort: 'familyName', limit: 7, offset: 7 }),
    q(`/classes/${p.klass}/students`, { filter: `familyName<'${p.familyName}'`, fields: 'sourcedId,familyName' }),
    q(`/classes/${p.klass}/students`, { filter: "givenName~'a' OR givenName~'e'", sort: 'givenName', orderBy: 'desc' }),
    q(`/schools/${p.school}/enrollments`, { filter: "role='teacher'", limit: 5 }),
    q(`/schools/${p.school}/terms`, { sort: 'startDate', orderBy: 'desc', fields: 'sourcedId,title' }),
    q(`/users/${p.student}/classes`, { sort: 'title', filter: "classType='scheduled'" }),
    q(`/terms/${p.term}/classes`, { filter: `school.sourcedId='${p.school}'`, limit: 3, offset: 2 }),
    q(`/schools/${p.school}/teachers`, { filter: "dateLastModified>'2025-01-01'", limit: 1000 }),
  ];
}

/** The whole battery for paths of `version`, below its rostering root. */
export function battery(version: Version, picks: Picks): string[] {
  return [...everyCollection(), ...userQueries(version, picks), ...entityQueries(picks), ...singles(picks), ...relationships(picks)];
}
