// OneRoster 1.2 OAuth scopes (1EdTech OpenAPI securitySchemes). Short names are the
// canonical form inside the gateway; clients may also send the 1EdTech scope URIs.
export const SCOPES = [
  'roster.readonly',
  'roster-core.readonly',
  'roster-demographics.readonly',
  'gradebook.readonly',
  'gradebook-core.readonly',
  'gradebook.createput',
  'gradebook.createpost',
  'gradebook.delete',
  'assessment.readonly',
  'assessment.createput',
  'assessment.delete',
  'resource.readonly',
  'resource-core.readonly',
] as const;

export type Scope = (typeof SCOPES)[number];

const SCOPE_SET: ReadonlySet<string> = new Set(SCOPES);
const URI_PREFIX = /^https?:\/\/purl\.imsglobal\.org\/spec\/or\/v1p[12]\/scope\//i;

/** Short name for a scope given as a short name or a 1EdTech URI; undefined when unknown. */
export function normalizeScope(raw: string): Scope | undefined {
  const short = raw.trim().replace(URI_PREFIX, '');
  return SCOPE_SET.has(short) ? (short as Scope) : undefined;
}

/** Parses an OAuth `scope` parameter (space separated). Unknown entries are returned apart. */
export function parseScopeParam(raw: string): { scopes: Scope[]; unknown: string[] } {
  const scopes: Scope[] = [];
  const unknown: string[] = [];
  for (const part of raw.split(/\s+/).filter(Boolean)) {
    const s = normalizeScope(part);
    if (s) {
      if (!scopes.includes(s)) scopes.push(s);
    } else unknown.push(part);
  }
  return { scopes, unknown };
}
