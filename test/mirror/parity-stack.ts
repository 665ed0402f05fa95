// A gateway for the mirror parity suite: each sandbox district twice, once mirrored and once
// not (a second district entry on the same sandbox, which the version bridge answers for a
// caller of the other version), so one query can be asked of the district itself, of the
// mirror and of the gateway without the mirror.
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/load.js';
import type { Version } from '../../src/core/oneroster/endpoints.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import type { TestSandbox } from '../../src/sandbox/testing.js';
import { TOKEN, readGot, type Got } from '../sandbox/helpers.js';
import { ALL_SCOPES, TOKEN_SECRET } from '../helpers/stack.js';

export interface GatewayDistrict {
  id: string;
  version: Version;
  /** The district's OneRoster root (its baseUrl): a sandbox's, or a proxy's in front of one. */
  baseUrl: string;
  mirror: boolean;
}

export interface ParityGateway {
  gateway: RunningGateway;
  url: string;
  /** GET a path below the district's OneRoster root (`/v1p1/users?...`, `/rostering/v1p2/...`) through the gateway. */
  get(district: string, path: string): Promise<Got>;
  /** The gateway's OneRoster root for a district, as its hrefs carry it. */
  root(district: string): string;
  close(): Promise<void>;
}

const CLIENT = { clientId: 'parity', clientSecret: 'parity-secret-value' };

/** `store`: the mirror's store (`memory` when absent, or a postgres:// URL). */
export async function startParityGateway(districts: readonly GatewayDistrict[], store?: string): Promise<ParityGateway> {
  const raw = {
    server: { port: 0, host: '127.0.0.1', shutdownGraceMs: 2000 },
    auth: { tokenSecret: TOKEN_SECRET, tokenTtlSeconds: 3600, clients: [{ ...CLIENT, districts: districts.map((d) => d.id), scopes: ALL_SCOPES }] },
    districts: districts.map((d) => ({
      id: d.id,
      version: d.version,
      baseUrl: d.baseUrl,
      auth: { type: 'bearer', token: TOKEN },
      mirror: d.mirror,
    })),
    // Delta sync off: its polls would reach the sandboxes while the mirror answers.
    cache: { deltaSync: { enabled: false } },
    ...(store ? { mirror: { store } } : {}),
  };
  const config = parseConfig(JSON.stringify(raw), {}, 'parity-stack');
  const logger = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const gateway = await startGateway(config, { logger });
  const token = await clientToken(gateway.url);
  const auth = { authorization: `Bearer ${token}` };
  const pg: ParityGateway = {
    gateway,
    url: gateway.url,
    root: (district) => `${gateway.url}/districts/${district}/ims/oneroster`,
    get: async (district, path) => readGot(await fetch(`${pg.root(district)}${path}`, { headers: auth })),
    close: () => gateway.close(),
  };
  await Promise.all(districts.filter((d) => d.mirror).map((d) => waitMirrorReady(gateway.url, auth, d.id)));
  return pg;
}

async function clientToken(url: string): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });
  const res = await fetch(`${url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  if (res.status !== 200) throw new Error(`token request failed: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Until GET /districts shows the district's copy published (`mirror.state === 'ready'`). */
async function waitMirrorReady(url: string, auth: Record<string, string>, id: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const res = await fetch(`${url}/districts`, { headers: auth });
    const body = (await res.json()) as { districts: Array<{ id: string; mirror: { state: string } }> };
    if (body.districts.find((d) => d.id === id)?.mirror.state === 'ready') return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the mirror of ${id} never became ready`);
}

/** GET a path below a sandbox's OneRoster root, authorized as the sandbox wants (its bearer token). */
export async function direct(sandbox: TestSandbox | { baseUrl: string }, path: string): Promise<Got> {
  return readGot(await fetch(`${sandbox.baseUrl}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }));
}

/** The relative root of a version's rostering service (below /ims/oneroster). */
export const versionPath = (v: Version): string => (v === 'v1p1' ? '/v1p1' : '/rostering/v1p2');
