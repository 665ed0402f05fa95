// Raw HTTP requests for the fuzz suite, and what every answer of the gateway must satisfy.
// node:http rather than fetch: fetch normalizes the URL (`..`, `%zz`, Latin-1 bytes) and
// would never send most of what a fuzzer wants to.
import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface Probe {
  method: string;
  /** Path and query exactly as sent on the request line. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });
export const closeAgent = () => agent.destroy();

// Connections are reused, so an answer can depend on what was sent before it: a failure
// report lists the last few probes too.
const recent: string[] = [];
const brief = (p: Probe) =>
  JSON.stringify({
    ...p,
    headers: { ...p.headers, ...(p.headers.authorization ? { authorization: p.headers.authorization.slice(0, 40) } : {}) },
    body: p.body && p.body.length > 120 ? `${p.body.slice(0, 120)}... (${p.body.length} chars)` : p.body,
  }).slice(0, 600);

/** Characters the HTTP client will not put on a request line (space, controls, > U+00FF) percent-encoded as UTF-8. */
export function sendable(target: string): string {
  return target.replace(/[^\u0021-\u00ff]/gu, (c) => (/\p{Cs}/u.test(c) ? '%EF%BF%BD' : encodeURIComponent(c)));
}

export function send(origin: string, p: Probe, timeoutMs = 10_000): Promise<Answer> {
  const { hostname, port } = new URL(origin);
  recent.push(brief(p));
  if (recent.length > 6) recent.shift();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...p.headers };
    if (p.body !== undefined) headers['content-length'] = String(Buffer.byteLength(p.body));
    const req = request({ host: hostname, port, path: p.path, method: p.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(p.body);
  });
}

const CODE_MINORS = {
  v1p2: ['fullsuccess', 'invalid_filter_field', 'invalid_selection_field', 'invalid_sort_field', 'invaliddata', 'unauthorisedrequest', 'forbidden', 'server_busy', 'unknownobject', 'internal_server_error', 'deletefailure'],
  v1p1: ['full success', 'invalid_filter_field', 'invalid_selection_field', 'invalid_sort_field', 'invalid data', 'unauthorized', 'forbidden', 'server_busy', 'unknown object', 'internal_server_error', 'deletefailure'],
};
const OAUTH_ERRORS = ['invalid_request', 'invalid_client', 'unsupported_grant_type', 'invalid_scope', 'temporarily_unavailable'];

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const sameKeys = (o: Record<string, unknown>, keys: string[]) => Object.keys(o).sort().join() === [...keys].sort().join();

/** The status-info entry of src/core/errors.ts `statusInfoBody`, field for field. */
function entryProblems(e: unknown, version: 'v1p1' | 'v1p2'): string[] {
  const minorKey = version === 'v1p2' ? 'imsx_CodeMinor' : 'imsx_codeMinor';
  if (!isObject(e)) return ['status info is not an object'];
  const out: string[] = [];
  if (e.imsx_codeMajor !== 'failure' && e.imsx_codeMajor !== 'unsupported') out.push(`imsx_codeMajor ${JSON.stringify(e.imsx_codeMajor)}`);
  if (e.imsx_severity !== 'error') out.push(`imsx_severity ${JSON.stringify(e.imsx_severity)}`);
  if (typeof e.imsx_description !== 'string' || e.imsx_description === '') out.push('imsx_description missing');
  const minor = e[minorKey];
  const field = isObject(minor) && Array.isArray(minor.imsx_codeMinorField) && minor.imsx_codeMinorField.length === 1 ? minor.imsx_codeMinorField[0] : undefined;
  if (!isObject(field) || field.imsx_codeMinorFieldName !== 'TargetEndSystem' || !CODE_MINORS[version].includes(field.imsx_codeMinorFieldValue as string)) {
    out.push(`${minorKey} ${JSON.stringify(minor)}`);
  }
  return out;
}

/** OneRoster 1.1 wraps the entry in statusInfoSet; 1.2 (and the gateway's own routes) send it bare. */
export function statusInfoProblems(body: unknown, version: 'v1p1' | 'v1p2', oauth: boolean): string[] {
  if (!isObject(body)) return ['error body is not an object'];
  const extra = oauth ? ['error', 'error_description'] : [];
  if (oauth && (!OAUTH_ERRORS.includes(body.error as string) || typeof body.error_description !== 'string')) return [`OAuth error fields ${JSON.stringify([body.error, body.error_description])}`];
  if (version === 'v1p1') {
    if (!sameKeys(body, ['statusInfoSet', ...extra]) || !Array.isArray(body.statusInfoSet) || body.statusInfoSet.length !== 1) return [`not a 1.1 statusInfoSet: ${Object.keys(body).join()}`];
    return entryProblems(body.statusInfoSet[0], 'v1p1');
  }
  if (!sameKeys(body, ['imsx_codeMajor', 'imsx_severity', 'imsx_description', 'imsx_CodeMinor', ...extra])) return [`not a 1.2 status info: ${Object.keys(body).join()}`];
  return entryProblems(body, 'v1p2');
}

/** The path as sent, and as the router sees it: dot segments resolved (WHATWG URL), then decoded. */
function pathOf(target: string): { raw: string; routed: string } {
  const raw = target.split('?')[0]!;
  let routed = raw;
  try {
    routed = new URL(raw, 'http://gateway').pathname;
    routed = decodeURI(routed);
  } catch {
    // the gateway decodes what it can; both forms are tried below
  }
  return { raw, routed };
}

const PRE_ROUTING = /^The request (target or Host header is not valid|is not valid HTTP|line or headers are too large|did not arrive in time)\.$/;

export interface Expectations {
  /** Strings no answer may contain: upstream URLs and credentials. */
  secrets: readonly string[];
  /** Paths whose success answers are not JSON (e.g. /metrics, Prometheus text). */
  nonJson?: (path: string) => boolean;
  /** A 5xx the caller has a reason to expect (given the parsed body). */
  allow5xx?: (status: number, body: unknown) => boolean;
}

/**
 * Everything wrong with one answer: a 5xx, a body that is not JSON, an error without the
 * status-info envelope of the path's version, a leaked upstream URL or credential.
 */
export function problemsOf(p: Probe, a: Answer, x: Expectations): string[] {
  const out: string[] = [];
  if (a.status >= 500 && !x.allow5xx?.(a.status, parseOrUndefined(a.body))) out.push(`status ${a.status}`);
  const everything = `${a.body}\n${JSON.stringify(a.headers)}`;
  for (const s of x.secrets) if (everything.includes(s)) out.push(`leaks ${JSON.stringify(s)}`);
  // No content at all is JSON's only alternative: HEAD, 204, and a successful write the
  // district answered without a body (the 1.2 OpenAPI's PUT: 201, no content), passed on as is.
  const emptyWrite = a.status >= 200 && a.status < 300 && ['PUT', 'POST', 'DELETE'].includes(p.method) && a.body === '' && !a.headers['content-type'];
  const noBody = p.method === 'HEAD' || a.status === 204 || a.status === 304 || emptyWrite;
  if (noBody) {
    if (a.body !== '') out.push('a body on a HEAD/204 answer');
    return out;
  }
  const { raw, routed } = pathOf(p.path);
  if (a.status < 400 && x.nonJson?.(raw)) return out;
  if (!/^application\/json\b/i.test(String(a.headers['content-type'] ?? ''))) out.push(`content-type ${JSON.stringify(a.headers['content-type'])}`);
  let body: unknown;
  try {
    body = JSON.parse(a.body);
  } catch {
    return [...out, `body is not JSON: ${JSON.stringify(a.body.slice(0, 200))}`];
  }
  if (a.status >= 400) {
    // As src/http/error-response.ts reads it (the router also takes `oneroster//v1p1`).
    const v1p1 = /\/ims\/oneroster\/+v1p1(\/|$)/;
    const oauth = /^\/oauth\/token\/?$/.test(raw) && p.method === 'POST' && a.status !== 405;
    // What Node's HTTP parser or @hono/node-server refuse (bytes outside visible ASCII, a request
    // line over 16 KiB, a backslash, a bad Host header) is answered before any route: 1.2 shape.
    const description = (body as { imsx_description?: unknown }).imsx_description;
    const unparsed = /[^\x21-\x7e]/.test(p.path) || p.path.length > 16_000 || (typeof description === 'string' && PRE_ROUTING.test(description));
    const versions: Array<'v1p1' | 'v1p2'> = !unparsed && v1p1.test(raw) === v1p1.test(routed) ? [v1p1.test(raw) ? 'v1p1' : 'v1p2'] : ['v1p1', 'v1p2'];
    const each = versions.map((v) => statusInfoProblems(body, v, oauth));
    if (each.every((e) => e.length > 0)) out.push(...each[0]!);
  }
  return out;
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function describeFailure(p: Probe, a: Answer, problems: string[]): string {
  return `${problems.join('; ')}\n  request: ${brief(p)}\n  answer: ${a.status} ${a.body.slice(0, 500)}\n  sent before it: ${recent.slice(0, -1).join('\n    ')}`;
}
