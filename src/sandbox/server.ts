// The sandbox HTTP server: token endpoint, authentication, a test hook (fault injection lives in
// the test-only testing.ts), latency, hit counting, then dispatch. Plain node:http so it shares no code with the gateway.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuthenticator, type Authenticator } from './auth.js';
import { dispatch, type DispatchEnv } from './dispatch.js';
import { errorBody } from './errors.js';
import { generateDataSet } from './generate.js';
import { ONEROSTER_ROOT, makeRefBuilder } from './hrefs.js';
import { readBody, writeReply, type Reply, splitRawUrl } from './http-io.js';
import { RenderedView } from './rendered-view.js';
import { v1p1Renderer } from './render-v1p1.js';
import { v1p2Renderer } from './render-v1p2.js';
import { Router } from './router.js';
import { routesFor } from './routes.js';
import { SandboxStore } from './store.js';
import type { Sandbox, SandboxHit, SandboxHooks, SandboxOptions, SandboxRequestIO, SandboxVersion } from './types.js';

const TOKEN_PATH = '/oauth/token';

export class SandboxServer implements Sandbox {
  readonly version: SandboxVersion;
  readonly hits: SandboxHit[] = [];
  tokenRequests = 0;
  readonly store: SandboxStore;
  private origin = '';
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly auth: Authenticator;
  private readonly server: Server;
  private env!: DispatchEnv;
  private allocated = 0;
  private closed = false;

  constructor(
    private readonly opts: SandboxOptions,
    private readonly hooks: SandboxHooks = {},
  ) {
    this.version = opts.version;
    const now = opts.now ?? Date.now;
    this.store = new SandboxStore(generateDataSet(opts.seed ?? 1, opts.users ?? 500), now);
    this.auth = createAuthenticator(opts.auth, opts.version, now);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        writeReply(res, { status: 500, body: errorBody(this.version, 'internalError', String(err)) });
      });
    });
  }

  get url(): string {
    return this.origin;
  }
  get baseUrl(): string {
    return `${this.origin}${ONEROSTER_ROOT}`;
  }
  get tokenUrl(): string {
    return `${this.origin}${TOKEN_PATH}`;
  }

  async listen(): Promise<void> {
    const host = this.opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, host, () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.origin = `http://${displayHost(host)}:${port}`;
    const view = new RenderedView(this.store, this.version === 'v1p1' ? v1p1Renderer : v1p2Renderer, makeRefBuilder(this.version, this.origin));
    this.env = {
      version: this.version,
      origin: this.origin,
      router: new Router(this.version, routesFor(this.version)),
      view,
      ...(this.opts.maxPageSize !== undefined ? { maxPageSize: this.opts.maxPageSize } : {}),
      ...(this.opts.quirks ? { quirks: this.opts.quirks } : {}),
      context: (params, body) => ({
        version: this.version, view, store: this.store, params, body,
        allocateId: (prefix) => `${prefix}-alloc-${String(++this.allocated).padStart(4, '0')}`,
      }),
    };
  }

  hitCount(pathPrefix = ''): number {
    return this.hits.filter((h) => h.path.startsWith(pathPrefix)).length;
  }
  resetHits(): void {
    this.hits.length = 0;
  }
  revokeTokens(): void {
    this.auth.tokens.revokeAll();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Ends keep-alive sockets and requests held open by hang/delay faults right away.
    this.server.closeAllConnections();
    await done;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path, query } = splitRawUrl(req.url);
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    if (path === TOKEN_PATH) return this.token(req, res, body);

    const hit: SandboxHit = { method, path, query, status: 0, authorized: false };
    this.hits.push(hit);
    const contentType = req.headers['content-type'] ?? '';
    const auth = this.auth.check({
      method, scheme: 'http', host: req.headers.host ?? '', path, query,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      ...(/^application\/x-www-form-urlencoded/i.test(contentType) ? { formBody: body } : {}),
    });
    hit.authorized = auth.ok;

    if (this.hooks.beforeData && (await this.hooks.beforeData(this.requestIO(path, req, res, hit)))) return;
    if (this.opts.latencyMs) await this.sleep(this.opts.latencyMs);

    const reply: Reply = auth.ok
      ? dispatch(this.env, { method, path, query, body })
      : { status: 401, headers: { 'WWW-Authenticate': auth.challenge }, body: errorBody(this.version, 'unauthorized', auth.reason) };
    this.send(res, hit, reply);
  }

  private requestIO(path: string, req: IncomingMessage, res: ServerResponse, hit: SandboxHit): SandboxRequestIO {
    return {
      path,
      reply: (status, headers, body) => this.send(res, hit, { status, headers, body }),
      destroy: () => req.socket.destroy(),
      sleep: (ms) => this.sleep(ms),
    };
  }

  private token(req: IncomingMessage, res: ServerResponse, body: string): void {
    this.tokenRequests++;
    const reply = this.auth.tokens.handle({
      method: req.method ?? 'GET',
      body,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    writeReply(res, reply);
  }

  private send(res: ServerResponse, hit: SandboxHit, reply: Reply): void {
    hit.status = reply.status;
    writeReply(res, reply);
  }

  /** A timer close() can cancel, so pending delays never outlive the server. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}

function displayHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
