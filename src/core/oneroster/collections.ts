// The base collection behind every path segment: aliases (/students, /schools, /terms)
// read the same records as their base collection, so they share cache tags.

export const BASE_COLLECTIONS = [
  'orgs',
  'academicSessions',
  'courses',
  'classes',
  'users',
  'enrollments',
  'demographics',
  'categories',
  'lineItems',
  'results',
  'resources',
  'scoreScales',
  'assessmentLineItems',
  'assessmentResults',
] as const;

export type BaseCollection = (typeof BASE_COLLECTIONS)[number];

/** The collections a delta sync polls (reference §7; 1.1 and 1.2 both have them). */
export const DELTA_COLLECTIONS: readonly BaseCollection[] = [
  'orgs',
  'academicSessions',
  'courses',
  'classes',
  'users',
  'enrollments',
  'demographics',
  'categories',
  'lineItems',
  'results',
];

const ALIASES: Record<string, BaseCollection> = {
  students: 'users',
  teachers: 'users',
  schools: 'orgs',
  terms: 'academicSessions',
  gradingPeriods: 'academicSessions',
};

const BASE: ReadonlySet<string> = new Set(BASE_COLLECTIONS);

export function baseCollection(segment: string): BaseCollection | undefined {
  return ALIASES[segment] ?? (BASE.has(segment) ? (segment as BaseCollection) : undefined);
}

export function isBaseCollection(name: string): name is BaseCollection {
  return BASE.has(name);
}
