// Turns a PUT/POST body object (in the server's version shape) into a store record.
// Lenient where real clients vary (GUIDRef or bare id, "85" or 85, true or "true"),
// strict about required fields: a missing one is 400 invaliddata.

import { SandboxError } from './errors.js';
import type { BoolString, CollectionName, RecordTypes, Status } from './records.js';
import type { Json } from './render-common.js';
import type { SandboxStore } from './store.js';
import type { SandboxVersion } from './types.js';

export type WritableCollection = 'categories' | 'lineItems' | 'results' | 'scoreScales' | 'assessmentLineItems' | 'assessmentResults';
export type WireRecord<C extends CollectionName> = Omit<RecordTypes[C], 'dateLastModified'>;

function invalid(message: string): SandboxError {
  return new SandboxError('invalidData', message);
}

class Reader {
  constructor(private readonly o: Json, private readonly what: string) {}

  str(key: string, required = false): string | undefined {
    const v = this.o[key];
    if (v === undefined || v === null || v === '') {
      if (required) throw invalid(`${this.what}.${key} is required`);
      return undefined;
    }
    if (typeof v !== 'string') throw invalid(`${this.what}.${key} must be a string`);
    return v;
  }

  req(key: string): string {
    return this.str(key, true) as string;
  }

  num(key: string): number | undefined {
    const v = this.o[key];
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
    if (!Number.isFinite(n)) throw invalid(`${this.what}.${key} must be a number`);
    return n;
  }

  bool(key: string): BoolString | undefined {
    const v = this.o[key];
    if (v === undefined || v === null) return undefined;
    if (v === true || v === 'true') return 'true';
    if (v === false || v === 'false') return 'false';
    throw invalid(`${this.what}.${key} must be "true" or "false"`);
  }

  /** A GUIDRef's sourcedId (a bare string id is accepted too). */
  ref(key: string, required = false): string | undefined {
    const v = this.o[key];
    if (v === undefined || v === null) {
      if (required) throw invalid(`${this.what}.${key} is required`);
      return undefined;
    }
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'object' && !Array.isArray(v) && typeof (v as Json).sourcedId === 'string' && (v as Json).sourcedId !== '') {
      return (v as Json).sourcedId as string;
    }
    throw invalid(`${this.what}.${key} must be a GUIDRef with a sourcedId`);
  }

  reqRef(key: string): string {
    return this.ref(key, true) as string;
  }

  base(sourcedId: string): { sourcedId: string; status: Status; metadata?: Json } {
    const status = this.str('status') ?? 'active';
    if (status !== 'active' && status !== 'tobedeleted') throw invalid(`${this.what}.status must be active or tobedeleted`);
    const m = this.o.metadata;
    const metadata = typeof m === 'object' && m !== null && !Array.isArray(m) ? (m as Json) : undefined;
    return { sourcedId, status, ...(metadata ? { metadata } : {}) };
  }

  flags(): Json {
    return { inProgress: this.bool('inProgress'), incomplete: this.bool('incomplete'), late: this.bool('late'), missing: this.bool('missing') };
  }
}

/** Removes undefined members so optional fields stay absent. */
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function parseWire<C extends WritableCollection>(
  version: SandboxVersion, collection: C, body: Json, sourcedId: string, store: SandboxStore,
): WireRecord<C> {
  const r = new Reader(body, collection);
  const v2 = version === 'v1p2';
  const today = store.stamp().slice(0, 10);
  const parsers: { [K in WritableCollection]: () => WireRecord<K> } = {
    categories: () => clean({ ...r.base(sourcedId), title: r.req('title'), weight: v2 ? r.num('weight') : undefined }),
    lineItems: () => {
      const classId = r.reqRef('class');
      // 1.1 has no lineItem.school; keep the class's school so a 1.2 view of the data stays whole.
      const schoolId = (v2 ? r.ref('school') : undefined) ?? store.get('classes', classId)?.schoolId ?? '';
      return clean({
        ...r.base(sourcedId), title: r.req('title'), description: r.str('description'),
        assignDate: r.str('assignDate') ?? store.stamp(), dueDate: r.str('dueDate') ?? store.stamp(),
        classId, schoolId, categoryId: r.reqRef('category'), gradingPeriodId: r.ref('gradingPeriod'),
        academicSessionId: v2 ? r.ref('academicSession') : undefined, scoreScaleId: v2 ? r.ref('scoreScale') : undefined,
        resultValueMin: r.num('resultValueMin'), resultValueMax: r.num('resultValueMax'),
      });
    },
    results: () => {
      const lineItemId = r.reqRef('lineItem');
      const classId = (v2 ? r.ref('class') : undefined) ?? store.get('lineItems', lineItemId)?.classId;
      return clean({
        ...r.base(sourcedId), lineItemId, studentId: r.reqRef('student'), classId, scoreStatus: r.req('scoreStatus'),
        score: r.num('score'), scoreDate: r.str('scoreDate') ?? today, comment: r.str('comment'),
        ...(v2 ? { scoreScaleId: r.ref('scoreScale'), textScore: r.str('textScore'), ...r.flags() } : {}),
      });
    },
    scoreScales: () => clean({
      ...r.base(sourcedId), title: r.req('title'), type: r.req('type'), courseId: r.ref('course'), classId: r.reqRef('class'),
      scoreScaleValue: scaleValues(body.scoreScaleValue),
    }),
    assessmentLineItems: () => clean({
      ...r.base(sourcedId), title: r.req('title'), description: r.str('description'), classId: r.ref('class'),
      parentId: r.ref('parentAssessmentLineItem'), scoreScaleId: r.ref('scoreScale'),
      resultValueMin: r.num('resultValueMin'), resultValueMax: r.num('resultValueMax'),
    }),
    assessmentResults: () => clean({
      ...r.base(sourcedId), assessmentLineItemId: r.reqRef('assessmentLineItem'), studentId: r.reqRef('student'),
      scoreStatus: r.req('scoreStatus'), score: r.num('score'), textScore: r.str('textScore'), scoreDate: r.str('scoreDate') ?? today,
      scoreScaleId: r.ref('scoreScale'), scorePercentile: r.num('scorePercentile'), comment: r.str('comment'), ...r.flags(),
    }),
  };
  return parsers[collection]() as WireRecord<C>;
}

function scaleValues(v: unknown): { itemValueLHS: string; itemValueRHS: string }[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid('scoreScale.scoreScaleValue must be an array');
  return v.map((item: unknown) => {
    const o = (typeof item === 'object' && item !== null ? item : {}) as Json;
    if (typeof o.itemValueLHS !== 'string' || typeof o.itemValueRHS !== 'string') {
      throw invalid('scoreScaleValue items need itemValueLHS and itemValueRHS strings');
    }
    return { itemValueLHS: o.itemValueLHS, itemValueRHS: o.itemValueRHS };
  });
}

/** JSON.parse with the failure as a 400, and the wrapper object checked. */
export function parseBody(body: string, wrapper: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw invalid('request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('request body must be a JSON object');
  const inner = (parsed as Json)[wrapper];
  if (inner === undefined) throw invalid(`request body needs a "${wrapper}" member`);
  return inner;
}

export function asObject(v: unknown, what: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${what} must be a JSON object`);
  return v as Json;
}
