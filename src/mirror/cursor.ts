// Change-feed cursors: opaque to clients, a place in a district's changes to the gateway. A
// copy's cursor is its version (`epoch.seq`, what X-Mirror-Version and X-Change-Cursor say: every
// change up to that copy seen); inside a copy, just after one change: `epoch.seq.collection.id`
// (the collection's MIRROR_COLLECTIONS place, the sourcedId in base64url). The epoch names the
// store, so a cursor of another store (a memory store restarted, another database) is told
// apart from a place this store has pruned past only by the store itself.
import { MIRROR_COLLECTIONS } from '../core/oneroster/collections.js';
import { collectionNumber } from './retention.js';
import type { ChangePosition, ObservedChange } from './types.js';

const CURSOR = /^([0-9a-f]{1,32})\.([1-9][0-9]{0,9})(?:\.([0-9]{1,2})\.([A-Za-z0-9_-]{1,8192}))?$/;

export function cursorOf(epoch: string, at: ChangePosition): string {
  if (at.collection === undefined) return `${epoch}.${at.seq}`;
  return `${epoch}.${at.seq}.${collectionNumber(at.collection)}.${Buffer.from(at.sourcedId ?? '', 'utf8').toString('base64url')}`;
}

export const changeCursor = (epoch: string, c: ObservedChange): string => cursorOf(epoch, { seq: c.seq, collection: c.collection, sourcedId: c.sourcedId });

/** The store epoch a copy version names (`epoch.seq`). */
export const epochOf = (version: string): string => version.slice(0, version.indexOf('.'));

/** A cursor read back; undefined when it is not one the gateway makes. */
export function readCursor(text: string): { epoch: string; at: ChangePosition } | undefined {
  const m = CURSOR.exec(text);
  if (!m) return undefined;
  const seq = Number(m[2]);
  if (seq > 0x7fffffff) return undefined;
  if (m[3] === undefined) return { epoch: m[1]!, at: { seq } };
  const collection = MIRROR_COLLECTIONS[Number(m[3])];
  const sourcedId = Buffer.from(m[4]!, 'base64url').toString('utf8');
  // base64url that does not round-trip (stray bits, a broken character) is no cursor of ours.
  if (!collection || Buffer.from(sourcedId, 'utf8').toString('base64url') !== m[4]) return undefined;
  return { epoch: m[1]!, at: { seq, collection, sourcedId } };
}
