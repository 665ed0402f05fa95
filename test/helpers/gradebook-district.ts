// A small OneRoster 1.1 district for the read-your-writes, secret and cache-key tests: line
// items and results in memory, Bearer or OAuth 2.0 (with a real token endpoint), X-Total-Count
// and Link on lists. What the sandbox cannot do is switchable: hold every GET open (each
// answers what it read when it ARRIVED, as a fetch that began before a write would), fail
// every request, and quote its own secrets and address in every place an answer has.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { TOKEN_SECRET } from './stack.js';

export interface GradebookDistrict {
  /** http://localhost:PORT{prefix}/ims/oneroster: the name, not 127.0.0.1, so answers can be searched for it. */
  readonly baseUrl: string;
  readonly tokenUrl: string;
  readonly host: string;
  readonly prefix: string;
  readonly bearer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Access tokens the token endpoint has issued. */
  readonly issued: string[];
  /** Every request line that reached the district (`GET /...`). */
  readonly hits: string[];
  lineItems: Map<string, Record<string, unknown>>;
  /** While set, each GET waits for `release()`, then answers what it read when it arrived. */
  hold: boolean;
  release(): void;
  /** Requests now waiting on the hold. */
  held(): number;
  /** Every request but the token endpoint fails with this status. */
  failWith: number | undefined;
  /** Answers quote the district's secrets and address everywhere they can. */
  quoting: boolean;
  close(): Promise<void>;
}

export async function startGradebookDistrict(opts: { prefix?: string } = {}): Promise<GradebookDistrict> {
  const prefix = opts.prefix ?? '/vendor-x9';
  const bearer = `bearer-${randomBytes(9).toString('hex')}`;
  const clientId = `gw-client-${randomBytes(4).toString('hex')}`;
  const clientSecret = `client-secret-${randomBytes(9).toString('hex')}`;
  const issued: string[] = [];
  const hits: string[] = [];
  let waiting: Array<() => void> = [];
  const lineItems = new Map<string, Record<string, unknown>>();
  for (let i = 1; i <= 5; i++) {
    const id = `li-${i}`;
    lineItems.set(id, {
      sourcedId: id,
      status: 'active',
      dateLastModified: '2025-01-01T00:00:00Z',
      title: `Line item ${i}`,
      class: { sourcedId: 'cls-1', type: 'class', href: '' },
      category: { sourcedId: 'cat-1', type: 'category', href: '' },
      gradingPeriod: { sourcedId: 'gp-1', type: 'academicSession', href: '' },
      assignDate: '2025-01-01',
      dueDate: '2025-02-01',
      resultValueMin: 0,
      resultValueMax: 100,
    });
  }

  let base = '';
  const d: GradebookDistrict = {
    get baseUrl() {
      return `${base}${prefix}/ims/oneroster`;
    },
    get tokenUrl() {
      return `${base}${prefix}/oauth/token`;
    },
    get host() {
      return base.slice('http://'.length);
    },
    prefix,
    bearer,
    clientId,
    clientSecret,
    issued,
    hits,
    lineItems,
    hold: false,
    release() {
      const w = waiting;
      waiting = [];
      for (const go of w) go();
    },
    held: () => waiting.length,
    failWith: undefined,
    quoting: false,
    close: () =>
      new Promise<void>((resolve) => {
        d.release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  /** Every secret and address of the district in one sentence, in several spellings. */
  const confession = () =>
    `bearer ${bearer} secret ${clientSecret} id ${clientId} token ${issued.at(-1) ?? 'none'} at ${d.host} (${d.host.toUpperCase()}) ` +
    `host ${d.host.split(':')[0]} path ${prefix}/ims/oneroster/v1p1 url ${d.baseUrl}/v1p1/x //${d.host}${prefix}/y`;

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  function authorized(req: IncomingMessage): boolean {
    const auth = req.headers.authorization ?? '';
    return auth === `Bearer ${bearer}` || issued.some((t) => auth === `Bearer ${t}`);
  }

  function href(path: string): string {
    if (!d.quoting) return `${d.baseUrl}/v1p1${path}`;
    // Every form a district's href takes, none of which may reach a client as it is.
    const forms = [`${d.baseUrl}/v1p1${path}`, `//${d.host}${prefix}/ims/oneroster/v1p1${path}`, `HTTP://${d.host.toUpperCase()}${prefix.toUpperCase()}/IMS/ONEROSTER/v1p1${path}`, `http://${d.host}${prefix}/files${path}?t=${bearer}`, `~/ims/oneroster/v1p1${path}`];
    return forms[path.length % forms.length]!;
  }

  function present(record: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = structuredClone(record);
    for (const [field, path] of [['class', '/classes/'], ['category', '/categories/'], ['gradingPeriod', '/gradingPeriods/']] as const) {
      const ref = out[field] as { sourcedId: string; href: string } | undefined;
      if (ref) ref.href = href(`${path}${ref.sourcedId}`);
    }
    if (d.quoting) out.metadata = { note: confession(), [`${d.baseUrl}/x`]: bearer, nested: [{ deep: `token=${issued.at(-1) ?? bearer}` }] };
    return out;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    hits.push(`${req.method} ${url.pathname}${url.search}`);
    if (req.method === 'POST' && url.pathname === `${prefix}/oauth/token`) {
      const basic = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
      if (basic !== `${clientId}:${clientSecret}`) return send(res, 401, { error: 'invalid_client', error_description: d.quoting ? confession() : 'no' });
      const token = `at-${randomBytes(12).toString('hex')}`;
      issued.push(token);
      return send(res, 200, { access_token: token, token_type: 'bearer', expires_in: 3600 });
    }
    if (!authorized(req)) return send(res, 401, { statusInfoSet: [{ imsx_codeMajor: 'failure', imsx_codeMinor: 'unauthorized', imsx_description: confession() }] });
    if (d.failWith !== undefined) {
      const description = d.quoting ? confession() : 'the SIS is down';
      return send(res, d.failWith, { imsx_codeMajor: 'failure', imsx_severity: 'error', imsx_description: description, imsx_CodeMinor: 'internal_server_error' });
    }
    const root = `${prefix}/ims/oneroster/v1p1`;
    if (!url.pathname.startsWith(root)) return send(res, 404, { statusInfoSet: [{ imsx_codeMajor: 'failure', imsx_codeMinor: 'unknown object', imsx_description: d.quoting ? confession() : 'no such path' }] });
    const rest = url.pathname.slice(root.length).split('/').filter(Boolean);
    if (req.method === 'GET') {
      // What the district holds now, answered later: a read that began before a write.
      const snapshot = structuredClone([...lineItems.values()]);
      if (d.hold) await new Promise<void>((go) => waiting.push(go));
      if (rest[0] === 'lineItems' && rest.length === 1) {
        const limit = Number(url.searchParams.get('limit') ?? '100');
        const offset = Number(url.searchParams.get('offset') ?? '0');
        const page = snapshot.slice(offset, offset + limit).map(present);
        const extra = d.quoting ? { statusInfoSet: [{ imsx_codeMajor: 'success', imsx_severity: 'warning', imsx_codeMinor: 'invalid_sort_field', imsx_description: confession() }] } : {};
        const headers: Record<string, string> = { 'x-total-count': String(snapshot.length) };
        if (offset + limit < snapshot.length) headers.link = `<${d.baseUrl}/v1p1/lineItems?limit=${limit}&offset=${offset + limit}>; rel="next"`;
        return send(res, 200, { lineItems: page, ...extra }, headers);
      }
      if (rest[0] === 'lineItems' && rest.length === 2) {
        const found = snapshot.find((r) => r.sourcedId === rest[1]);
        if (!found) return send(res, 404, { statusInfoSet: [{ imsx_codeMajor: 'failure', imsx_codeMinor: 'unknown object', imsx_description: d.quoting ? confession() : 'no such line item' }] });
        return send(res, 200, { lineItem: present(found) });
      }
      return send(res, 404, { statusInfoSet: [{ imsx_codeMajor: 'failure', imsx_codeMinor: 'unknown object', imsx_description: 'unknown' }] });
    }
    if (rest[0] === 'lineItems' && rest.length === 2 && req.method === 'PUT') {
      const parsed = JSON.parse(body) as { lineItem: Record<string, unknown> };
      const existed = lineItems.has(rest[1]!);
      lineItems.set(rest[1]!, { ...parsed.lineItem, sourcedId: rest[1] });
      return send(res, existed ? 200 : 201, { lineItem: present(lineItems.get(rest[1]!)!) });
    }
    if (rest[0] === 'lineItems' && rest.length === 2 && req.method === 'DELETE') {
      lineItems.delete(rest[1]!);
      res.writeHead(204).end();
      return;
    }
    send(res, 405, {});
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle(req, res, Buffer.concat(chunks).toString()));
  });
  // Both stacks: `localhost` may resolve to ::1 first.
  await new Promise<void>((resolve) => server.listen(0, resolve));
  base = `http://localhost:${(server.address() as AddressInfo).port}`;
  return d;
}

export interface GatewayOn {
  gateway: RunningGateway;
  logs: string[];
  token(): Promise<string>;
  close(): Promise<void>;
}

export const APP = { clientId: 'app', clientSecret: 'app-secret-value' };

/** A gateway in front of such districts, with one client `app` for all of them. */
export async function gatewayFor(
  districts: Array<{ id: string; district: GradebookDistrict; auth: 'bearer' | 'oauth2'; extra?: Record<string, unknown> }>,
  more: { cache?: Record<string, unknown>; server?: Record<string, unknown> } = {},
): Promise<GatewayOn> {
  const config = parseConfig(
    JSON.stringify({
      server: { port: 0, host: '127.0.0.1', shutdownGraceMs: 500, ...more.server },
      auth: {
        tokenSecret: TOKEN_SECRET,
        clients: [{ ...APP, districts: ['*'], scopes: ['roster.readonly', 'gradebook.readonly', 'gradebook.createput', 'gradebook.delete'] }],
      },
      cache: { ...more.cache, deltaSync: { enabled: false } },
      districts: districts.map(({ id, district, auth, extra }) => ({
        id,
        version: 'v1p1',
        baseUrl: district.baseUrl,
        auth:
          auth === 'bearer'
            ? { type: 'bearer', token: district.bearer }
            : { type: 'oauth2', tokenUrl: district.tokenUrl, clientId: district.clientId, clientSecret: district.clientSecret },
        upstream: { retry: { maxAttempts: 1 }, breaker: { enabled: false } },
        ...extra,
      })),
    }),
    {},
    'gradebook-district-test',
  );
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) });
  const gateway = await startGateway(config, { logger });
  return {
    gateway,
    logs,
    async token() {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: APP.clientId, client_secret: APP.clientSecret });
      const res = await fetch(`${gateway.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
      const json = (await res.json()) as { access_token?: string };
      if (!json.access_token) throw new Error(`token: ${res.status}`);
      return json.access_token;
    },
    close: () => gateway.close(),
  };
}
