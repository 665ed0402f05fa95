// A fake ClassLink (reference §6): the discovery API (`/applications`, `/applications/{id}/server`)
// and the OneRoster proxy (`/{oneroster_application_id}/ims/oneroster/...`) in front of running
// sandboxes. Like the real proxy it matches the application id verbatim as sent (already
// percent-encoded), authenticates with a per-tenant bearer (or the developer token when the
// tenant has none) and forwards to the district's server with that server's own credentials.

import { createServer, request, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorBody, type ErrorCode } from './errors.js';
import { readBody, writeReply, type Reply, splitRawUrl } from './http-io.js';
import { safeEqual } from './secret-compare.js';
import type { Sandbox } from './types.js';

export interface ClassLinkTenant {
  tenantId: number; // ClassLink tenant_id
  tenantName: string;
  /** oneroster_application_id, already percent-encoded as ClassLink sends it, e.g. 'MoYPlyQWmG0%3D'. */
  applicationId: string;
  /** Per-tenant bearer for proxy data calls; null: the developer token is accepted instead. */
  bearer: string | null;
  enabled?: boolean; // default true; emitted as "enabled": "true"/"false"
  status?: 'Active' | 'Inactive'; // default 'Active'; emitted as "tenant_status"
  /** A running bearer-auth sandbox holding this tenant's data. */
  upstream: Sandbox;
  /** The bearer the sandbox expects; the proxy forwards with it (as ClassLink signs with OAuth1). */
  upstreamToken: string;
  /** What /applications/{id}/server returns (endpoint_url = the sandbox's origin). */
  direct?: { clientId: string; clientSecret: string };
  id?: number; // the discovery row's `id`; default 1000 + tenantId
}

export interface ClassLinkFake {
  url: string;
  setTenants(tenants: ClassLinkTenant[]): void;
  rotateBearer(tenantId: number, bearer: string | null): void;
  hits(): { discovery: number; server: number; data: number };
  resetHits(): void;
  close(): Promise<void>;
}

export interface ClassLinkFakeOptions {
  developerToken: string;
  tenants: ClassLinkTenant[];
  host?: string; // default '127.0.0.1'
  port?: number; // default 0 (ephemeral)
}

/** ClassLink's numeric id of the developer's application and its name, as in their example. */
const APP_NUMERIC_ID = 57;
const APP_NAME = 'OneRoster Gateway';
const DATA_PATH = /^\/([^/]+)\/ims\/oneroster(\/.*)?$/;
const SERVER_PATH = /^\/applications\/([^/]+)\/server\/?$/;
const DATA_METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE']);
const RELAYED = ['content-type', 'x-total-count', 'link', 'retry-after', 'x-request-id', 'www-authenticate'];

export async function startClassLinkFake(opts: ClassLinkFakeOptions): Promise<ClassLinkFake> {
  const fake = new ClassLinkServer(opts);
  await fake.listen(opts.host ?? '127.0.0.1', opts.port ?? 0);
  return fake;
}

class ClassLinkServer implements ClassLinkFake {
  url = '';
  private tenants: ClassLinkTenant[] = [];
  private counts = { discovery: 0, server: 0, data: 0 };
  private readonly server: Server;
  private readonly outbound = new Set<ClientRequest>();
  private closed = false;

  constructor(private readonly opts: ClassLinkFakeOptions) {
    this.setTenants(opts.tenants);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => writeReply(res, { status: 500, body: oneRosterError('internalError', String(err)) }));
    });
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const addr = this.server.address() as AddressInfo;
    const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
    this.url = `http://${shown}:${addr.port}`;
  }

  setTenants(tenants: ClassLinkTenant[]): void {
    this.tenants = tenants.map((t) => ({ ...t }));
  }

  rotateBearer(tenantId: number, bearer: string | null): void {
    const matching = this.tenants.filter((t) => t.tenantId === tenantId);
    if (matching.length === 0) throw new RangeError(`classlink fake: no tenant ${tenantId}`);
    for (const t of matching) t.bearer = bearer;
  }

  hits(): { discovery: number; server: number; data: number } {
    return { ...this.counts };
  }

  resetHits(): void {
    this.counts = { discovery: 0, server: 0, data: 0 };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.outbound) r.destroy();
    this.outbound.clear();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await done;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path, query } = splitRawUrl(req.url);
    const method = req.method ?? 'GET';
    const body = await readBody(req);

    if (path === '/applications' || path === '/applications/') {
      this.counts.discovery++;
      return writeReply(res, this.discovery(method, req.headers.authorization, query));
    }
    const server = SERVER_PATH.exec(path);
    if (server) {
      this.counts.server++;
      return writeReply(res, this.serverDetails(method, req.headers.authorization, server[1] as string));
    }
    const data = DATA_PATH.exec(path);
    if (!data) return writeReply(res, { status: 404, body: { status: 0, error: 'not found' } });
    this.counts.data++;
    const tenant = this.tenants.find((t) => t.applicationId === data[1]); // verbatim: no decoding
    if (!tenant) return writeReply(res, { status: 404, body: oneRosterError('unknownObject', `unknown application ${data[1]}`) });
    const token = bearerOf(req.headers.authorization);
    const expected = tenant.bearer ?? this.opts.developerToken;
    if (token === null || !safeEqual(token, expected)) {
      return writeReply(res, {
        status: 401,
        headers: { 'WWW-Authenticate': 'Bearer realm="classlink-oneroster-proxy", error="invalid_token"' },
        body: oneRosterError('unauthorized', token === null ? 'missing bearer token' : 'invalid bearer token'),
      });
    }
    if (tenant.enabled === false || (tenant.status ?? 'Active') !== 'Active') {
      return writeReply(res, { status: 403, body: oneRosterError('forbidden', 'application is not enabled for this tenant') });
    }
    if (!DATA_METHODS.has(method)) {
      return writeReply(res, { status: 405, headers: { Allow: [...DATA_METHODS].join(', ') }, body: oneRosterError('invalidData', `${method} not allowed`) });
    }
    const search = query ? `?${query}` : ''; // '?' + raw query, byte for byte
    writeReply(res, await this.forward(tenant, req, method, `${data[2] ?? ''}${search}`, body));
  }

  private developerOk(authorization: string | undefined): boolean {
    const token = bearerOf(authorization);
    return token !== null && safeEqual(token, this.opts.developerToken);
  }

  private discovery(method: string, authorization: string | undefined, query: string): Reply {
    if (!this.developerOk(authorization)) return { status: 401, body: { status: 0, error: 'unauthorized' } };
    if (method !== 'GET') return { status: 405, headers: { Allow: 'GET' }, body: { status: 0, error: 'method not allowed' } };
    const params = new URLSearchParams(query);
    const offset = nonNegativeInt(params.get('offset')) ?? 0;
    const limit = nonNegativeInt(params.get('limit'));
    const rows = this.tenants.slice(offset, limit === undefined ? undefined : offset + limit).map((t) => ({
      id: t.id ?? 1000 + t.tenantId,
      tenant_name: t.tenantName,
      tenant_id: t.tenantId,
      application_id: APP_NUMERIC_ID,
      bearer: t.bearer,
      name: APP_NAME,
      oneroster_application_id: t.applicationId,
      enabled: t.enabled === false ? 'false' : 'true',
      tenant_status: t.status ?? 'Active',
    }));
    return { status: 200, body: { status: 1, applications: rows } };
  }

  private serverDetails(method: string, authorization: string | undefined, appId: string): Reply {
    if (!this.developerOk(authorization)) return { status: 401, body: { status: 0, error: 'unauthorized' } };
    if (method !== 'GET') return { status: 405, headers: { Allow: 'GET' }, body: { status: 0, error: 'method not allowed' } };
    const tenant = this.tenants.find((t) => t.applicationId === appId);
    if (!tenant) return { status: 404, body: { status: 0, server: null, message: 'application not found' } };
    const server = {
      client_id: tenant.direct?.clientId ?? '',
      client_secret: tenant.direct?.clientSecret ?? '',
      endpoint_url: new URL(tenant.upstream.baseUrl).origin,
    };
    return { status: 200, body: { status: 1, server, message: '' } };
  }

  /** Sends the request on to the tenant's sandbox with raw path and query untouched. */
  private forward(tenant: ClassLinkTenant, req: IncomingMessage, method: string, rest: string, body: string): Promise<Reply> {
    const base = new URL(tenant.upstream.baseUrl); // origin + /ims/oneroster
    const headers: Record<string, string> = { authorization: `Bearer ${tenant.upstreamToken}` };
    for (const h of ['content-type', 'x-request-id', 'accept']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const hasBody = method !== 'GET' && body !== '';
    if (hasBody) headers['content-length'] = String(Buffer.byteLength(body));
    const upstreamPrefix = `${base.origin}${base.pathname}`;
    const proxyPrefix = `${this.url}/${tenant.applicationId}/ims/oneroster`;
    return new Promise<Reply>((resolve) => {
      const out = request(
        { hostname: base.hostname.replace(/^\[|\]$/g, ''), port: base.port, method, path: `${base.pathname}${rest}`, headers },
        (up) => {
          const chunks: Buffer[] = [];
          up.on('data', (c: Buffer) => chunks.push(c));
          up.on('error', () => resolve(badGateway('upstream response aborted')));
          up.on('end', () => {
            const relayed: Record<string, string> = {};
            for (const h of RELAYED) {
              const v = up.headers[h];
              if (v === undefined) continue;
              const s = Array.isArray(v) ? v.join(', ') : v;
              relayed[h] = h === 'link' ? s.split(upstreamPrefix).join(proxyPrefix) : s;
            }
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: up.statusCode ?? 502, headers: relayed, ...(text === '' ? {} : { body: text }) });
          });
        },
      );
      this.outbound.add(out);
      out.on('close', () => this.outbound.delete(out));
      out.on('error', (err) => {
        resolve(badGateway(`upstream request failed: ${err.message}`));
      });
      out.end(hasBody ? body : undefined);
    });
  }
}

function bearerOf(authorization: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return m ? (m[1] as string) : null;
}

function nonNegativeInt(v: string | null): number | undefined {
  if (v === null || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

function oneRosterError(code: ErrorCode, description: string): unknown {
  return errorBody('v1p1', code, description);
}

function badGateway(description: string): Reply {
  return { status: 502, body: oneRosterError('internalError', description) };
}
