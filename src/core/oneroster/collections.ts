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

// Resources, score scales and assessments are not part of the delta-sync set (reference §7).
const NOT_POLLED: ReadonlySet<BaseCollection> = new Set(['resources', 'scoreScales', 'assessmentLineItems', 'assessmentResults']);

/** The collections a delta sync polls: those that 1.1 and 1.2 both have. */
export const DELTA_COLLECTIONS: readonly BaseCollection[] = BASE_COLLECTIONS.filter((c) => !NOT_POLLED.has(c));

// Maps, not object literals: the segment is user input (a URL path, an admin purge), and a
// plain object would answer `__proto__`, `constructor` or `toString` from Object.prototype.
const ALIASES: ReadonlyMap<string, BaseCollection> = new Map<string, BaseCollection>([
  ['students', 'users'],
  ['teachers', 'users'],
  ['schools', 'orgs'],
  ['terms', 'academicSessions'],
  ['gradingPeriods', 'academicSessions'],
]);

const BASE: ReadonlySet<string> = new Set(BASE_COLLECTIONS);

/** The base collection a path segment (or an admin's collection name) reads; undefined when it names none. */
export function baseCollection(segment: string): BaseCollection | undefined {
  return ALIASES.get(segment) ?? (BASE.has(segment) ? (segment as BaseCollection) : undefined);
}

const GRADEBOOK: ReadonlySet<BaseCollection> = new Set(['categories', 'lineItems', 'results', 'scoreScales', 'assessmentLineItems', 'assessmentResults']);

/** The 1.2 service a collection lives under (1.1 has one root for all three). */
export function serviceOf(collection: BaseCollection): 'rostering' | 'gradebook' | 'resources' {
  if (collection === 'resources') return 'resources';
  return GRADEBOOK.has(collection) ? 'gradebook' : 'rostering';
}

/** The rostering collections a district mirror holds, in dependency order (what a full pull reads first). */
export const MIRROR_COLLECTIONS = ['orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments', 'demographics'] as const;
export type MirrorCollection = (typeof MIRROR_COLLECTIONS)[number];
