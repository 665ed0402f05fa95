// Constant-time comparison for secrets of any length: compare fixed-size digests so
// neither the content nor the length leaks through timing.

import { createHash, timingSafeEqual } from 'node:crypto';

export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
