import { refId } from './guid-refs.js';
import type { MapContext, Json } from './types.js';

// The one real model change between the versions (reference §3.2 User): 1.1 has a single
// `role` and an `orgs[]` list; 1.2 has `roles[]` ({roleType, role, org}) and `primaryOrg`,
// and its role vocabulary splits 1.1's `administrator` by the kind of org.

const SHARED_ROLES: ReadonlySet<string> = new Set(['aide', 'guardian', 'parent', 'proctor', 'relative', 'student', 'teacher']);
const ADMIN_ROLES: ReadonlySet<string> = new Set(['districtAdministrator', 'siteAdministrator', 'systemAdministrator', 'principal', 'counselor']);

/** 1.1 role → 1.2 role at one org: `administrator` is a district administrator at a district, else a site administrator. */
export function roleToV1p2(role: string, orgType: string | undefined): string {
  if (role === 'administrator') return orgType === 'district' ? 'districtAdministrator' : 'siteAdministrator';
  return role;
}

/** 1.2 role → 1.1 role: every staff role 1.1 has no word for becomes `administrator`. */
export function roleToV1p1(role: string): string {
  return ADMIN_ROLES.has(role) ? 'administrator' : role;
}

/** 1.2 role words that are the same in 1.1. */
export const isSharedRole = (role: string): boolean => SHARED_ROLES.has(role);

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
}

/** 1.1 → 1.2: one primary role per org (the 1.2 rule), primaryOrg the first org. */
export function userToV1p2(user: Json, ctx: MapContext): Json {
  const { role, orgs, ...rest } = user;
  // One primary role per org (1.2): an org listed twice is one org.
  const seen = new Set<string>();
  const orgRefs = asArray(orgs).filter((o) => {
    const id = refId(o);
    if (id === undefined || seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  const out: Json = rest;
  if (typeof role === 'string' && role) {
    out.roles = orgRefs.map((org) => ({ roleType: 'primary', role: roleToV1p2(role, ctx.orgType(refId(org)!)), org }));
  } else {
    out.roles = [];
  }
  if (orgRefs.length > 0 && out.primaryOrg === undefined) out.primaryOrg = orgRefs[0];
  return out;
}

interface RoleEntry {
  roleType?: unknown;
  role?: unknown;
  org?: unknown;
}

/** 1.2 → 1.1: the role held at the primary org (else the first primary role), and every org the user has a role at. */
export function userToV1p1(user: Json): Json {
  const { roles, primaryOrg, ...rest } = user;
  const entries = asArray(roles).filter((r): r is RoleEntry => !!r && typeof r === 'object');
  const primaryId = refId(primaryOrg);
  const chosen =
    entries.find((r) => r.roleType === 'primary' && primaryId !== undefined && refId(r.org) === primaryId) ??
    entries.find((r) => r.roleType === 'primary') ??
    entries[0];
  const out: Json = rest;
  if (chosen && typeof chosen.role === 'string') out.role = roleToV1p1(chosen.role);
  const orgs: unknown[] = [];
  const seen = new Set<string>();
  for (const org of [primaryOrg, ...entries.map((r) => r.org)]) {
    const id = refId(org);
    if (id === undefined || seen.has(id)) continue;
    seen.add(id);
    orgs.push(org);
  }
  out.orgs = orgs;
  // 1.1 requires a username; 1.2 made it optional.
  if (typeof out.username !== 'string' || !out.username) {
    const fallback = [out.email, out.identifier, out.sourcedId].find((v) => typeof v === 'string' && v);
    if (fallback !== undefined) out.username = fallback;
  }
  return out;
}
