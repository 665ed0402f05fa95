// Orgs, academic sessions, courses, classes and resources of the generated district.

import { modifiedBefore, SCHOOL_YEAR } from './generate-dates.js';
import { DISTRICT_TOWNS, SCHOOL_TEMPLATES, type SchoolTemplate } from './generate-names.js';
import { intBetween, pad, pick, streamFor, type Rng } from './prng.js';
import type {
  AcademicSessionRecord,
  ClassRecord,
  CourseRecord,
  OrgRecord,
  ResourceRecord,
} from './records.js';

export const DISTRICT_ID = 'org-d1';
const COURSE_TARGET = 20;

export interface School {
  record: OrgRecord;
  template: SchoolTemplate;
}

export interface RosterSkeleton {
  orgs: OrgRecord[];
  schools: School[];
  academicSessions: AcademicSessionRecord[];
  courses: CourseRecord[];
  classes: ClassRecord[];
  resources: ResourceRecord[];
  domain: string;
}

export function generateSkeleton(seed: number): RosterSkeleton {
  const rng = streamFor(seed, 'skeleton');
  const town = pick(rng, DISTRICT_TOWNS);
  const domain = `${town.toLowerCase().replace(/\s+/g, '')}.k12.example.org`;
  const { district, schools } = generateOrgs(rng, town);
  const resources = generateResources(streamFor(seed, 'resources'));
  const courses = generateCourses(rng, schools, resources);
  const classes = generateClasses(rng, courses, schools, resources);
  return {
    orgs: [district, ...schools.map((s) => s.record)],
    schools,
    academicSessions: generateSessions(rng),
    courses,
    classes,
    resources,
    domain,
  };
}

function generateOrgs(rng: Rng, town: string): { district: OrgRecord; schools: School[] } {
  const ncesId = `06${pad(intBetween(rng, 10000, 99999), 5)}`;
  const district: OrgRecord = {
    sourcedId: DISTRICT_ID,
    status: 'active',
    dateLastModified: modifiedBefore(rng),
    name: `${town} Unified School District`,
    type: 'district',
    identifier: ncesId,
    metadata: { 'ext:ncesLeaId': ncesId }, // extension data lives in metadata, as 1.2 requires
  };
  const count = rng() < 0.5 ? 3 : 4;
  const schools = SCHOOL_TEMPLATES.slice(0, count).map((template, i): School => ({
    template,
    record: {
      sourcedId: `org-s${i + 1}`,
      status: 'active',
      dateLastModified: modifiedBefore(rng),
      name: template.name,
      type: 'school',
      identifier: `${district.identifier}${pad(i + 1, 5)}`,
      parentId: DISTRICT_ID,
    },
  }));
  return { district, schools };
}

function generateSessions(rng: Rng): AcademicSessionRecord[] {
  const year = SCHOOL_YEAR;
  const base = { status: 'active' as const, schoolYear: year.schoolYear };
  const out: AcademicSessionRecord[] = [
    { ...base, sourcedId: year.id, dateLastModified: modifiedBefore(rng), title: year.title, type: 'schoolYear', startDate: year.startDate, endDate: year.endDate },
  ];
  for (const term of year.terms) {
    out.push({ ...base, sourcedId: term.id, dateLastModified: modifiedBefore(rng), title: term.title, type: 'term', startDate: term.startDate, endDate: term.endDate, parentId: year.id });
    for (const gp of term.gradingPeriods) {
      out.push({ ...base, sourcedId: gp.id, dateLastModified: modifiedBefore(rng), title: gp.title, type: 'gradingPeriod', startDate: gp.startDate, endDate: gp.endDate, parentId: term.id });
    }
  }
  return out;
}

/** Spreads about twenty courses round-robin over the schools, each from its level's catalogue. */
function generateCourses(rng: Rng, schools: School[], resources: ResourceRecord[]): CourseRecord[] {
  const courses: CourseRecord[] = [];
  const taken = schools.map(() => 0);
  for (let n = 0; courses.length < COURSE_TARGET && n < COURSE_TARGET * 4; n++) {
    const si = n % schools.length;
    const school = schools[si] as School;
    const template = school.template.courses[taken[si] as number];
    if (!template) continue;
    taken[si] = (taken[si] as number) + 1;
    courses.push({
      sourcedId: `crs-${pad(courses.length + 1, 3)}`,
      status: 'active',
      dateLastModified: modifiedBefore(rng),
      title: template.title,
      courseCode: `${template.code}-${school.template.short}`,
      schoolYearId: SCHOOL_YEAR.id,
      orgId: school.record.sourcedId,
      grades: school.template.grades.slice(0, 3),
      subjects: [template.subject],
      subjectCodes: [template.sced],
      resourceIds: rng() < 0.4 ? [pick(rng, resources).sourcedId] : [],
    });
  }
  return courses;
}

/** Two sections per course; some run all year (both terms), the rest one semester. */
function generateClasses(rng: Rng, courses: CourseRecord[], schools: School[], resources: ResourceRecord[]): ClassRecord[] {
  const [fall, spring] = SCHOOL_YEAR.terms;
  const classes: ClassRecord[] = [];
  for (const course of courses) {
    const elementary = schools.find((s) => s.record.sourcedId === course.orgId)?.template.short === 'MES';
    const termIds = rng() < 0.5 ? [fall.id, spring.id] : [pick(rng, [fall.id, spring.id])];
    for (let section = 1; section <= 2; section++) {
      const period = intBetween(rng, 1, 7);
      classes.push({
        sourcedId: `cls-${pad(classes.length + 1, 3)}`,
        status: 'active',
        dateLastModified: modifiedBefore(rng),
        title: `${course.title} - Period ${period}`,
        classCode: `${course.courseCode}-${pad(section, 2)}`,
        classType: elementary && section === 1 ? 'homeroom' : 'scheduled',
        location: `Room ${intBetween(rng, 100, 299)}`,
        grades: course.grades,
        subjects: course.subjects,
        subjectCodes: course.subjectCodes,
        periods: [String(period)],
        courseId: course.sourcedId,
        schoolId: course.orgId,
        termIds,
        resourceIds: rng() < 0.25 ? [pick(rng, resources).sourcedId] : [],
      });
    }
  }
  return classes;
}

const RESOURCE_TEMPLATES = [
  ['Khan Academy: Algebra Basics', 'khan-academy', 'KA-ALG-BASICS'],
  ['Desmos Graphing Calculator', 'desmos', 'DESMOS-GRAPH'],
  ['Newsela Reading Library', 'newsela', 'NEWSELA-LIB'],
  ['PhET Chemistry Simulations', 'phet', 'PHET-CHEM'],
  ['Duolingo for Schools: Spanish', 'duolingo', 'DUO-ES'],
  ['Code.org CS Principles', 'code-org', 'CSP-2025'],
] as const;

function generateResources(rng: Rng): ResourceRecord[] {
  return RESOURCE_TEMPLATES.map(([title, vendor, vendorResourceId], i) => ({
    sourcedId: `rsc-${pad(i + 1, 2)}`,
    status: 'active',
    dateLastModified: modifiedBefore(rng),
    title,
    roles: i % 3 === 0 ? ['student', 'teacher'] : ['student'],
    importance: i % 2 === 0 ? 'primary' : 'secondary',
    vendorResourceId,
    vendorId: vendor,
    applicationId: `app-${vendor}`,
  }));
}
