// Builds the whole data set for a seed and user count. Same inputs, same records.

import { generateGradebook } from './generate-gradebook.js';
import { generatePeople } from './generate-people.js';
import { generateSkeleton } from './generate-roster.js';
import type { CollectionName, RecordTypes } from './records.js';

export type DataSet = { [C in CollectionName]: RecordTypes[C][] };

export function generateDataSet(seed: number, users: number): DataSet {
  const skeleton = generateSkeleton(seed);
  const people = generatePeople(seed, users, skeleton);
  const gradebook = generateGradebook(seed, skeleton.classes, people.enrollments);
  return {
    orgs: skeleton.orgs,
    academicSessions: skeleton.academicSessions,
    courses: skeleton.courses,
    classes: skeleton.classes,
    resources: skeleton.resources,
    ...people,
    ...gradebook,
  };
}
