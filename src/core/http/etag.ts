// Entity tags and If-None-Match (RFC 9110 §8.8.3, §13.1.2). Pure.

// Members past this many are not read (the header is bounded by Node's header limit anyway).
const MAX_TAGS = 64;

/** The strong tag of one representation: the identity body's digest, plus its coding. */
export function entityTag(digest: string, coding: string): string {
  return coding === 'identity' ? `"${digest}"` : `"${digest}-${coding}"`;
}

/**
 * Whether If-None-Match names `etag` (a quoted strong tag): `*`, or any listed tag equal to
 * it by the weak comparison the header calls for (a `W/` prefix on either side is ignored).
 * A malformed header names nothing, so the full answer goes out.
 */
export function ifNoneMatchNames(header: string | null | undefined, etag: string): boolean {
  if (!header) return false;
  const value = header.trim();
  if (value === '*') return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  let n = 0;
  for (const raw of value.split(',')) {
    if (++n > MAX_TAGS) return false;
    const t = raw.trim();
    const tag = t.startsWith('W/') ? t.slice(2) : t;
    if (tag === opaque) return true;
  }
  return false;
}
