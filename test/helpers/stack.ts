import { Writable } from 'node:stream';
import request from 'supertest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';
import type { GatewayConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSandbox, type TestSandbox, type SandboxOptions } from '../../src/sandbox/testing.js';

export const TOKEN_SECRET = 'test-token-secret-0123456789abcdefghij';

export interface DistrictSpec {
  id: string;
  sandbox: SandboxOptions;
  /** Overrides of the district entry (e.g. upstream limits, auth fields). */
  extra?: Record<string, unknown>;
  authExtra?: Record<string, unknown>;
}

export interface ClientSpec {
  clientId: string;
  clientSecret?: string;
  clientSecretSha256?: string;
  districts: string[];
  scopes: string[];
  rateLimit?: { requestsPerSecond: number; burst?: number; hitCost?: number };
}

export interface Stack {
  gateway: RunningGateway;
  sandboxes: Record<string, TestSandbox>;
  http: ReturnType<typeof request>;
  logs: string[];
  /** The config the gateway started with (validated), for reload tests. */
  config: GatewayConfig;
  /** A token for the client via POST /oauth/token (body credentials). */
  token(clientId: string, secret: string, scope?: string): Promise<string>;
  close(): Promise<void>;
}

export const ALL_SCOPES = [
  'roster.readonly',
  'roster-core.readonly',
  'roster-demographics.readonly',
  'gradebook.readonly',
  'gradebook.createput',
  'gradebook.createpost',
  'gradebook.delete',
  'resource.readonly',
];

function upstreamAuth(s: TestSandbox, opts: SandboxOptions): Record<string, unknown> {
  const a = opts.auth;
  if (a.type === 'oauth1') return { type: 'oauth1', consumerKey: a.consumerKey, consumerSecret: a.consumerSecret };
  if (a.type === 'oauth2') return { type: 'oauth2', tokenUrl: s.tokenUrl, clientId: a.clientId, clientSecret: a.clientSecret };
  return { type: 'bearer', token: a.token };
}

export async function startStack(spec: {
  districts: DistrictSpec[];
  clients: ClientSpec[];
  server?: Record<string, unknown>;
  tokenTtlSeconds?: number;
  now?: () => number;
  /** The config's cache block; delta sync is off unless a test turns it on (it would add upstream hits). */
  cache?: Record<string, unknown>;
  admin?: { token: string };
  /** Further top-level config blocks (e.g. classlink). */
  extra?: Record<string, unknown>;
}): Promise<Stack> {
  const sandboxes: Record<string, TestSandbox> = {};
  const districts = [];
  for (const d of spec.districts) {
    const s = await startSandbox(d.sandbox);
    sandboxes[d.id] = s;
    districts.push({
      id: d.id,
      name: `District ${d.id}`,
      version: d.sandbox.version,
      baseUrl: s.baseUrl,
      auth: { ...upstreamAuth(s, d.sandbox), ...d.authExtra },
      ...d.extra,
    });
  }
  const raw = {
    server: { port: 0, host: '127.0.0.1', shutdownGraceMs: 2000, ...spec.server },
    auth: { tokenSecret: TOKEN_SECRET, tokenTtlSeconds: spec.tokenTtlSeconds ?? 3600, clients: spec.clients },
    districts,
    cache: { ...spec.cache, deltaSync: { enabled: false, ...(spec.cache?.deltaSync as object | undefined) } },
    ...(spec.admin ? { admin: spec.admin } : {}),
    ...spec.extra,
  };
  // JSON is YAML: the stack goes through the same loader as a real config file.
  const config = parseConfig(JSON.stringify(raw), {}, 'test-stack');
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const gateway = await startGateway(config, { logger, ...(spec.now ? { now: spec.now } : {}) });
  const http = request(gateway.url);
  return {
    gateway,
    sandboxes,
    config,
    http,
    logs,
    async token(clientId, secret, scope) {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret });
      if (scope) form.set('scope', scope);
      const res = await request(gateway.url).post('/oauth/token').type('form').send(form.toString());
      if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.access_token as string;
    },
    async close() {
      await gateway.close();
      await Promise.all(Object.values(sandboxes).map((s) => s.close()));
    },
  };
}

export const oauth1Sandbox = (extra: Partial<SandboxOptions> = {}): SandboxOptions => ({
  version: 'v1p1',
  auth: { type: 'oauth1', consumerKey: 'ck-springfield', consumerSecret: 'cs-springfield-secret' },
  users: 120,
  ...extra,
});
export const oauth2Sandbox = (extra: Partial<SandboxOptions> = {}): SandboxOptions => ({
  version: 'v1p2',
  auth: { type: 'oauth2', clientId: 'gw-client', clientSecret: 'oauth2-upstream-secret', tokenTtlSeconds: 3600 },
  users: 120,
  ...extra,
});
export const bearerSandbox = (extra: Partial<SandboxOptions> = {}): SandboxOptions => ({
  version: 'v1p1',
  auth: { type: 'bearer', token: 'classlink-bearer-token-xyz' },
  users: 120,
  ...extra,
});

/** Every upstream secret a test stack uses: none may ever reach a client or a log. */
export const UPSTREAM_SECRETS = ['cs-springfield-secret', 'oauth2-upstream-secret', 'classlink-bearer-token-xyz'];

/** A token from any running gateway (a replica started without startStack), client credentials in the body. */
export async function tokenAt(gatewayUrl: string, clientId = 'app', secret = 'app-secret-value'): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret });
  const res = await request(gatewayUrl).post('/oauth/token').type('form').send(form.toString());
  if (res.status !== 200) throw new Error(`token request failed: ${res.status}`);
  return res.body.access_token as string;
}
