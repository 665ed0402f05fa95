import { refId } from './guid-refs.js';
import type { Json, MapContext } from './types.js';

// Gradebook differences (reference §3.2 LineItem, Result, Category). Fields that exist only
// in 1.2 are dropped by the generic pass; here are the ones that move or are derived.

/** 1.1 → 1.2: `school` is required in 1.2 and is the class's school. */
export function lineItemToV1p2(item: Json, ctx: MapContext): Json {
  if (item.school === undefined || item.school === null) {
    const classId = refId(item.class);
    const school = classId === undefined ? undefined : ctx.classSchool(classId);
    if (school !== undefined) item.school = { sourcedId: school };
  }
  return item;
}

/** 1.2 → 1.1: 1.1 has only `gradingPeriod`; a 1.2 line item may name its session as `academicSession`. */
export function lineItemToV1p1(item: Json): Json {
  if (item.gradingPeriod === undefined || item.gradingPeriod === null) {
    if (item.academicSession !== undefined && item.academicSession !== null) item.gradingPeriod = item.academicSession;
  }
  return item;
}
