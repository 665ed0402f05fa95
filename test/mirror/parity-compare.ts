// How two answers to one query are compared: status, body (URL roots normalized), X-Total-Count
// and the Link header parsed into rel -> {path, params}. Error answers are compared by status
// and codeMinor only: their descriptions are each server's own prose.
import type { Got } from '../sandbox/helpers.js';

export interface Answer {
  status: number;
  body: unknown;
  total: string | null;
  links: Record<string, { path: string; params: Record<string, string> }>;
}

/** Every `from` root in text replaced by `to` (hrefs in bodies, URLs in Link headers). */
export type Rooting = ReadonlyArray<readonly [from: string, to: string]>;

const reroot = (text: string, rooting: Rooting): string => rooting.reduce((t, [from, to]) => t.replaceAll(from, to), text);

/** codeMinor of a 1.1 (statusInfoSet, often a flat string) or 1.2 (imsx_CodeMinor) error body, spaces removed. */
export function codeMinorOf(body: unknown): string | undefined {
  const b = body as Record<string, any> | undefined;
  const info = Array.isArray(b?.statusInfoSet) ? b!.statusInfoSet[0] : b;
  const minor = info?.imsx_CodeMinor ?? info?.imsx_codeMinor;
  const value = typeof minor === 'string' ? minor : minor?.imsx_codeMinorField?.[0]?.imsx_codeMinorFieldValue;
  return typeof value === 'string' ? value.replace(/\s+/g, '').toLowerCase() : undefined;
}

/** RFC 8288 links by rel; the query's pairs as a map, so parameter order and encoding do not count. */
export function parseLinks(header: string | null, rooting: Rooting, pin?: string | null): Answer['links'] {
  const links: Answer['links'] = {};
  for (const m of (header ?? '').matchAll(/<([^>]*)>\s*;\s*rel="([^"]+)"/g)) {
    const url = new URL(reroot(m[1]!, rooting));
    // A mirror answer's links pin its copy: every one names it, and the rest must match the district's.
    if (pin) {
      if (url.searchParams.get('snapshot') !== pin) throw new Error(`link ${m[1]} does not pin snapshot ${pin}`);
      url.searchParams.delete('snapshot');
    }
    links[m[2]!] = { path: `${url.origin}${url.pathname}`, params: Object.fromEntries([...url.searchParams].sort(([a], [b]) => (a < b ? -1 : 1))) };
  }
  // The sandbox always sends first and last; the gateway (mirror or not) only when there is
  // another page to go to, its own choice for every district: a lone page's first/last say nothing.
  if (!links.next && !links.prev) {
    delete links.first;
    delete links.last;
  }
  return links;
}

export function answerOf(got: Got, rooting: Rooting): Answer {
  const error = got.status >= 400;
  return {
    status: got.status,
    body: error ? { codeMinor: codeMinorOf(got.body) } : JSON.parse(reroot(JSON.stringify(got.body), rooting)),
    total: got.headers.get('x-total-count'),
    links: parseLinks(got.headers.get('link'), rooting, got.headers.get('x-cache') === 'MIRROR' ? got.headers.get('x-mirror-version') : undefined),
  };
}

/** What differs between two answers, in a line a failing test can print; undefined when nothing does. */
export function difference(label: string, expected: Answer, got: Answer): string | undefined {
  const parts: string[] = [];
  if (expected.status !== got.status) parts.push(`status ${expected.status} != ${got.status}`);
  if (expected.total !== got.total) parts.push(`X-Total-Count ${expected.total} != ${got.total}`);
  const el = JSON.stringify(expected.links);
  const gl = JSON.stringify(got.links);
  if (el !== gl) parts.push(`Link ${el} != ${gl}`);
  const eb = canonical(expected.body);
  const gb = canonical(got.body);
  if (eb !== gb) parts.push(`body ${firstDifference(eb, gb)}`);
  return parts.length === 0 ? undefined : `${label}: ${parts.join('; ')}`;
}

/** JSON with object keys sorted: key order is not part of a OneRoster answer. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as object).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 80);
  return `(${a.length} vs ${b.length} chars) at ${i}: …${a.slice(from, i + 80)} != …${b.slice(from, i + 80)}`;
}
