// Word lists for fake people and places. Plain ASCII plus a few apostrophes and hyphens,
// because real rosters have O'Brien and Smith-Jones and filters must cope with them.

export const GIVEN_NAMES = [
  'Olivia', 'Liam', 'Emma', 'Noah', 'Ava', 'Elijah', 'Sophia', 'Mateo', 'Isabella', 'Lucas',
  'Mia', 'Levi', 'Amelia', 'Ezra', 'Harper', 'Asher', 'Evelyn', 'James', 'Luna', 'Leo',
  'Aaliyah', 'Mohammed', 'Priya', 'Wei', 'Sofia', 'Diego', 'Chloe', 'Kai', 'Zoe', 'Jamal',
  'Nia', 'Hiroshi', 'Fatima', 'Santiago', 'Grace', 'Omar', 'Hannah', 'Andre', 'Mei', 'Jose',
] as const;

export const FAMILY_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin',
  'Lee', 'Nguyen', 'Patel', 'Kim', 'Chen', "O'Brien", 'Smith-Jones', 'Okafor', 'Yamamoto', 'Kowalski',
  'Haddad', 'Singh', 'Rossi', 'Novak', 'Ali', 'Cohen', 'Silva', 'Dubois', 'Murphy', 'Walker',
] as const;

export const MIDDLE_INITIALS = ['A', 'B', 'C', 'D', 'E', 'J', 'L', 'M', 'R', 'S', 'T'] as const;

export const DISTRICT_TOWNS = ['Springfield', 'Riverton', 'Fairview', 'Lakewood', 'Greenville', 'Oak Ridge'] as const;

export const CITIES = [
  ['Sacramento', 'CA'], ['Austin', 'TX'], ['Denver', 'CO'], ['Portland', 'OR'], ['Columbus', 'OH'], ['Raleigh', 'NC'],
] as const;

export interface SchoolTemplate {
  name: string;
  short: string;
  grades: readonly string[];
  courses: readonly CourseTemplate[];
}

export interface CourseTemplate {
  title: string;
  code: string;
  subject: string;
  sced: string; // SCED subject code, what real SIS exports put in subjectCodes
}

const ELEMENTARY: readonly CourseTemplate[] = [
  { title: 'Grade 3 Mathematics', code: 'MATH3', subject: 'Mathematics', sced: '52034' },
  { title: 'Grade 4 English Language Arts', code: 'ELA4', subject: 'English Language Arts', sced: '51034' },
  { title: 'Science Explorations', code: 'SCI-EX', subject: 'Science', sced: '53034' },
  { title: 'Art', code: 'ART-E', subject: 'Fine Arts', sced: '55034' },
  { title: 'Music', code: 'MUS-E', subject: 'Fine Arts', sced: '55134' },
];

const MIDDLE: readonly CourseTemplate[] = [
  { title: 'Math 7', code: 'MATH7', subject: 'Mathematics', sced: '02052' },
  { title: 'Pre-Algebra', code: 'PALG', subject: 'Mathematics', sced: '02051' },
  { title: 'English 8', code: 'ENG8', subject: 'English Language Arts', sced: '01053' },
  { title: 'Life Science', code: 'LSCI', subject: 'Science', sced: '03053' },
  { title: 'U.S. History', code: 'USH8', subject: 'Social Studies', sced: '04101' },
  { title: 'Spanish I', code: 'SPN1', subject: 'World Languages', sced: '06101' },
];

const HIGH: readonly CourseTemplate[] = [
  { title: 'Algebra I', code: 'ALG1', subject: 'Mathematics', sced: '02052' },
  { title: 'Geometry', code: 'GEOM', subject: 'Mathematics', sced: '02072' },
  { title: 'Biology', code: 'BIO', subject: 'Science', sced: '03051' },
  { title: 'Chemistry', code: 'CHEM', subject: 'Science', sced: '03101' },
  { title: 'English 9', code: 'ENG9', subject: 'English Language Arts', sced: '01001' },
  { title: 'World History', code: 'WHIS', subject: 'Social Studies', sced: '04051' },
  { title: 'AP Computer Science A', code: 'APCSA', subject: 'Computer Science', sced: '10157' },
  { title: 'Physical Education', code: 'PE', subject: 'Physical Education', sced: '08001' },
];

const K5 = ['KG', '01', '02', '03', '04', '05'];
const G68 = ['06', '07', '08'];
const G912 = ['09', '10', '11', '12'];

export const SCHOOL_TEMPLATES: readonly SchoolTemplate[] = [
  { name: 'Maple Elementary School', short: 'MES', grades: K5, courses: ELEMENTARY },
  { name: 'Cedar Middle School', short: 'CMS', grades: G68, courses: MIDDLE },
  { name: 'Lakeside High School', short: 'LHS', grades: G912, courses: HIGH },
  { name: 'Riverside Academy', short: 'RA', grades: G912, courses: HIGH },
];
