import type { Version } from '../endpoints.js';
import { fieldsOf, type Entity, type FieldSpec } from '../model.js';
import { lineItemToV1p1, lineItemToV1p2 } from './gradebook.js';
import { guidRef, refId } from './guid-refs.js';
import type { Json, MapContext, MapNeeds } from './types.js';
import { userToV1p1, userToV1p2 } from './users.js';

// One record from the district's version into the caller's. First the entity's own moves
// (users' roles, line items' sessions and school), then one pass over every field against
// the target model: nulls dropped, booleans as "true"/"false", GUIDRefs rebuilt, fields the
// source version defines but the target does not dropped (the lossy points, README), and
// vendor fields neither version defines kept under `metadata` (1.2 objects allow no others).

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

// `__proto__` from JSON.parse is an own data key; assigned to a plain object it would
// become the prototype instead, so it is never copied.
const COPYABLE = (k: string) => k !== '__proto__';

/** Deep copy without nulls (1.2 forbids them; Aeries sends them for absent fields). */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined).map(withoutNulls);
  if (isObject(v)) {
    const out: Json = {};
    for (const k of Object.keys(v)) if (COPYABLE(k) && v[k] !== null && v[k] !== undefined) out[k] = withoutNulls(v[k]);
    return out;
  }
  // JSON has no -0: the record is serialized anyway, and a cached copy must equal a fresh one.
  return v === 0 ? 0 : v;
}

/** "true"/"false"; JSON booleans accepted; anything else is not a boolean and is dropped. */
function asBoolean(v: unknown): string | undefined {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase();
  return undefined;
}

/** A number; numeric strings accepted; anything else is dropped. */
function asNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) return undefined;
  return n === 0 ? 0 : n; // no -0
  return undefined;
}

function asStrings(v: unknown): unknown {
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x) => x !== null && x !== undefined).map((x) => (typeof x === 'string' ? x : String(x)));
}

// 1.2 text fields that are required: an empty one stays "" (still valid) rather than going absent.
const REQUIRED_V1P2_TEXT: ReadonlySet<string> = new Set([
  'orgs.name', 'orgs.type', 'orgs.identifier', 'academicSessions.title', 'academicSessions.type', 'academicSessions.schoolYear',
  'academicSessions.startDate', 'academicSessions.endDate', 'courses.title', 'courses.courseCode', 'classes.title',
  'users.givenName', 'users.familyName', 'enrollments.role', 'lineItems.title', 'lineItems.assignDate', 'lineItems.dueDate',
  'results.scoreStatus', 'results.scoreDate', 'categories.title', 'resources.vendorResourceId', 'scoreScales.title', 'scoreScales.type',
]);
// 1.1 knows male and female only (reference §3.2, unconfirmed); 1.2 added other and unspecified.
const V1P1_SEX: ReadonlySet<string> = new Set(['male', 'female']);

function convertField(spec: FieldSpec, value: unknown, to: Version, ctx: MapContext, name: string): unknown {
  switch (spec.kind) {
    case 'boolean':
      return asBoolean(value);
    case 'number':
      return asNumber(value);
    case 'string':
      // 1.1 servers send "" for absent optional text; in 1.2 an absent field is absent.
      if (value === '' && to === 'v1p2' && !REQUIRED_V1P2_TEXT.has(name)) return undefined;
      if (name === 'demographics.sex' && to === 'v1p1' && typeof value === 'string' && !V1P1_SEX.has(value)) return undefined;
      return typeof value === 'number' || typeof value === 'boolean' ? String(value) : withoutNulls(value);
    case 'strings':
      return asStrings(value);
    case 'ref':
      return guidRef(ctx.hrefBase, to, spec.ref!, value);
    case 'refs':
      return (Array.isArray(value) ? value : [value]).map((r) => guidRef(ctx.hrefBase, to, spec.ref!, r)).filter(Boolean);
    default:
      return withoutNulls(value);
  }
}

/** 1.2 role entries: each org is a GUIDRef like any other. */
function convertRoles(value: unknown, to: Version, ctx: MapContext): unknown {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).map((r) => {
    const out = withoutNulls(r) as Json;
    const org = guidRef(ctx.hrefBase, to, 'org', r.org);
    if (org) out.org = org;
    else delete out.org;
    return out;
  });
}

/** The record in the `to` version's shape. `from === to` still normalizes (nulls, booleans, refs). */
export function mapRecord(entity: Entity, record: unknown, from: Version, to: Version, ctx: MapContext): Json {
  if (!isObject(record)) return {};
  let rec: Json = { ...record };
  if (from !== to) {
    if (entity === 'users') rec = to === 'v1p2' ? userToV1p2(rec, ctx) : userToV1p1(rec);
    else if (entity === 'lineItems') rec = to === 'v1p2' ? lineItemToV1p2(rec, ctx) : lineItemToV1p1(rec);
  }
  const target = fieldsOf(to, entity) ?? {};
  const source = fieldsOf(from, entity) ?? {};
  const out: Json = {};
  const extras: Json = {};
  for (const key of Object.keys(rec)) {
    const value = rec[key];
    if (value === null || value === undefined || !COPYABLE(key)) continue;
    const spec = Object.hasOwn(target, key) ? target[key] : undefined;
    if (!spec) {
      // Defined by the source version only: a documented loss. Unknown to both: a vendor field.
      if (!Object.hasOwn(source, key)) extras[key] = withoutNulls(value);
      continue;
    }
    const converted =
      key === 'roles' && entity === 'users' && to === 'v1p2' ? convertRoles(value, to, ctx) : convertField(spec, value, to, ctx, `${entity}.${key}`);
    if (converted !== undefined) out[key] = converted;
  }
  // 1.0's `inactive` survives in some servers; 1.1 and 1.2 read it as tobedeleted (reference §3.1).
  if (out.status === 'inactive') out.status = 'tobedeleted';
  if (Object.keys(extras).length > 0) out.metadata = { ...(isObject(out.metadata) ? out.metadata : {}), ...extras };
  return out;
}

/** What mapping these records will look up (org types for 1.1 administrators, classes' schools for line items). */
export function mappingNeeds(entity: Entity, records: readonly unknown[], from: Version, to: Version): MapNeeds {
  const needs: MapNeeds = { orgs: new Set(), classes: new Set() };
  if (from === to || to !== 'v1p2') return needs;
  for (const r of records) {
    if (!isObject(r)) continue;
    if (entity === 'users' && r.role === 'administrator' && Array.isArray(r.orgs)) {
      for (const o of r.orgs) {
        const id = refId(o);
        if (id) needs.orgs.add(id);
      }
    }
    if (entity === 'lineItems' && (r.school === undefined || r.school === null)) {
      const id = refId(r.class);
      if (id) needs.classes.add(id);
    }
  }
  return needs;
}
