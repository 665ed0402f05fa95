// One page of a mirror pull, read from the district through its own client (auth,
// concurrency, budget, retries, breaker) at background priority, and made fit to keep:
// hrefs re-rooted at MIRROR_ROOT (the gateway's root is only known per request, so answers
// swap it in), anything else still naming the district redacted, vendor warnings dropped.
import { linkHasRel, parseTotalCount } from '../core/oneroster/links.js';
import { rewriteHrefs } from '../core/oneroster/hrefs.js';
import type { Json } from '../core/oneroster/mapping/types.js';
import type { District } from '../districts/districts.js';
import type { WalkPage } from '../core/page-walk.js';

/**
 * Where kept hrefs point: replaced by the asking request's OneRoster root for the district
 * when an answer is built. Not a URL any district or client could send (no scheme is
 * registered for it), so a record cannot smuggle one in.
 */
export const MIRROR_ROOT = 'orgw-mirror-root:';

export interface PulledPage extends WalkPage {
  records: Json[];
}

export class PullError extends Error {
  override readonly name = 'PullError';
  constructor(
    message: string,
    /** The answer passed the district's maxBodyBytes: a smaller page may pass. */
    readonly tooLarge = false,
    /** The district's HTTP status, when it answered one that is not 2xx. */
    readonly status?: number,
  ) {
    super(message);
  }
}

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

// NUL and lone UTF-16 surrogates (raw, or as JSON escapes): JSON.parse takes them, PostgreSQL's
// jsonb refuses them, and one such string would fail a whole pull. Replaced by U+FFFD in both stores alike.
const ILL_FORMED = /\\u0000|\\u[dD][89a-fA-F]|[\u0000\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const clean = (s: string) => s.replace(LONE_SURROGATE, '\uFFFD').replaceAll('\u0000', '\uFFFD');

/** `value` with every string and key well formed (in place where it can be; returns the value to keep). */
function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return clean(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = wellFormed(value[i]);
    return value;
  }
  if (!isObject(value)) return value;
  for (const key of Object.keys(value)) {
    const v = wellFormed(value[key]);
    const k = clean(key);
    if (k !== key) delete value[key];
    value[k] = v;
  }
  return value;
}

/** Records from the district made fit to keep (as readPullPage makes a page's): copies, hrefs re-rooted, redacted. */
export function keepable(district: District, records: readonly Json[]): Json[] {
  const text = JSON.stringify(records);
  const copy = JSON.parse(text) as Json[];
  fitToKeep(district, { records: copy }, text);
  return copy;
}

/** In place: strings made well formed, hrefs re-rooted at MIRROR_ROOT, the district's secrets and addresses redacted. `text` is the value's JSON. */
function fitToKeep(district: District, value: Json, text: string): void {
  if (ILL_FORMED.test(text)) wellFormed(value);
  // Test the raw text once: a clean page skips redacting every string.
  rewriteHrefs(value, { upstreamBase: district.upstreamBase, gatewayBase: MIRROR_ROOT, redactor: district.redactor }, district.redactor.test(text));
}

/** Reads one page of `path` (below the district's root); throws PullError with a message safe to show. */
export async function readPullPage(district: District, path: string, query: ReadonlyArray<readonly [string, string]>, signal?: AbortSignal): Promise<PulledPage> {
  let res;
  try {
    res = await district.upstream.request({ method: 'GET', path, query, priority: 'background', ...(signal ? { signal } : {}) });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new PullError(typeof code === 'string' ? `the district could not be read (${code})` : 'the district could not be read', code === 'UPSTREAM_TOO_LARGE');
  }
  if (res.status < 200 || res.status >= 300) throw new PullError(`the district answered HTTP ${res.status}`, false, res.status);
  const text = res.body.toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PullError('the district answered with a body that is not JSON');
  }
  if (!isObject(body)) throw new PullError('the district answered with a body that is not a JSON object');
  const lists = Object.entries(body).filter(([k, v]) => k !== 'statusInfoSet' && Array.isArray(v));
  if (lists.length !== 1) throw new PullError('the district answered without one list of records');
  fitToKeep(district, body, text);
  const records = (lists[0]![1] as unknown[]).filter(isObject);
  const link = res.headers['link'];
  return {
    records,
    total: parseTotalCount(res.headers['x-total-count']),
    hasLink: !!link,
    hasNext: linkHasRel(link, 'next'),
    bytes: res.body.length,
  };
}
