// Shared bits for the sandbox tests: a bearer-token sandbox and small fetch helpers.

import { startSandbox, type TestSandbox, type SandboxOptions } from '../../src/sandbox/testing.js';

export const TOKEN = 'sandbox-test-token';

export function startBearer(opts: Partial<SandboxOptions> & Pick<SandboxOptions, 'version'>): Promise<TestSandbox> {
  return startSandbox({ auth: { type: 'bearer', token: TOKEN }, ...opts });
}

/** The OneRoster root of a service: 1.1 has one, 1.2 one per service. */
export function root(sb: TestSandbox, service: 'rostering' | 'gradebook' | 'resources' = 'rostering'): string {
  return sb.version === 'v1p1' ? `${sb.baseUrl}/v1p1` : `${sb.baseUrl}/${service}/v1p2`;
}

export interface Got {
  status: number;
  headers: Headers;
  body: any; // test assertions walk arbitrary JSON
}

export async function call(url: string, init: RequestInit = {}): Promise<Got> {
  const res = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string> | undefined) },
  });
  return readGot(res);
}

/** Status, headers and the body as JSON when it is JSON, else its raw text (HTML fault pages, truncated JSON). */
export async function readGot(res: Response): Promise<Got> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // keep the raw text
  }
  return { status: res.status, headers: res.headers, body };
}

/** RFC 3986 encoding for building query strings in tests (spaces %20, quotes %27). */
export function enc(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function filterQuery(expr: string): string {
  return `filter=${enc(expr)}`;
}

/** Every page of a collection, following rel="next" links. */
export async function allPages(url: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let next: string | undefined = url;
  let pages = 0;
  while (next) {
    const got = await call(next);
    if (got.status !== 200) throw new Error(`page ${next} -> ${got.status}`);
    pages++;
    const wrapper = Object.keys(got.body)[0] as string;
    ids.push(...(got.body[wrapper] as { sourcedId: string }[]).map((r) => r.sourcedId));
    next = /<([^>]+)>;\s*rel="next"/.exec(got.headers.get('link') ?? '')?.[1];
  }
  return { ids, pages };
}
