// A kept record's JSON, made once when it is staged, for answers built from many records. A page
// of records is then their texts copied into one buffer, with this request's OneRoster root put
// where the record's hrefs have MIRROR_ROOT, instead of serializing every object, flattening
// the string and encoding it again on every read (measured: three times the work, BENCHMARKS.md).
// Kept on the record under a symbol, which JSON.stringify does not see.
import type { Json } from '../core/oneroster/mapping/types.js';
import { MIRROR_ROOT } from './pull-page.js';

const KEPT = Symbol('mirror record JSON');

interface Kept {
  /** The record's JSON split at every MIRROR_ROOT. */
  parts: readonly string[];
  /** UTF-8 bytes of the parts together. */
  bytes: number;
}

function keptOf(record: Json): Kept {
  const found = (record as { [KEPT]?: Kept })[KEPT];
  if (found) return found;
  const parts = JSON.stringify(record).split(MIRROR_ROOT);
  const kept: Kept = { parts, bytes: parts.reduce((n, p) => n + Buffer.byteLength(p), 0) };
  Object.defineProperty(record, KEPT, { value: kept });
  return kept;
}

/** What the record weighs (its JSON's bytes), its text made and kept for later answers. */
export function weightOf(record: Json): number {
  return keptOf(record).bytes + (keptOf(record).parts.length - 1) * MIRROR_ROOT.length;
}

/** Whether two records have the same JSON (a delta's upsert that changes nothing). */
export function sameText(a: Json, b: Json): boolean {
  const x = keptOf(a).parts;
  const y = keptOf(b).parts;
  return x.length === y.length && x.every((p, i) => p === y[i]);
}

/** `{"<wrapper>":[records...]}` as UTF-8, with `root` where MIRROR_ROOT was. */
export function pageBody(wrapper: string, records: readonly Json[], root: string): Buffer {
  const head = Buffer.from(`{${JSON.stringify(wrapper)}:[`);
  const rootBytes = Buffer.from(root);
  const kept = records.map(keptOf);
  let size = head.length + 2 + Math.max(0, kept.length - 1);
  for (const k of kept) size += k.bytes + (k.parts.length - 1) * rootBytes.length;
  const out = Buffer.allocUnsafe(size);
  let at = head.copy(out, 0);
  kept.forEach((k, i) => {
    if (i > 0) out[at++] = 0x2c; // ,
    k.parts.forEach((part, j) => {
      if (j > 0) at += rootBytes.copy(out, at);
      at += out.write(part, at, 'utf8');
    });
  });
  out[at++] = 0x5d; // ]
  out[at++] = 0x7d; // }
  return out;
}
