import { CLASSLINK_PREFIX, type ClassLinkConfig, type DistrictConfig } from '../config/schema.js';
import type { DistrictUpstreamClient } from '../upstream/chain.js';
import type { Interceptor } from '../upstream/dispatch.js';
import { assembleDistrict, authIdentifiers, authSecrets, authUrls, type District, type MutableDistrictRegistry } from './districts.js';

// ClassLink discovery (reference §6): GET {discoveryUrl} with the developer token lists the
// tenants that granted the app access. Each enabled, active one is district
// `classlink-{tenant_id}`, reached at {proxyBaseUrl}/{oneroster_application_id}/ims/oneroster
// with the tenant's bearer (else the developer token). The application id arrives already
// percent-encoded and is used verbatim: re-encoding it (%253D) fails opaquely.

export interface Tenant {
  districtId: string;
  name: string;
  applicationId: string;
  bearer: string;
  /** Direct mode: the district's own server and OAuth 1.0a credentials. */
  direct?: DirectServer;
}

export interface DirectServer {
  /** Host-level, e.g. https://district.oneroster.com (the OneRoster root is below it). */
  endpointUrl: string;
  clientId: string;
  clientSecret: string;
}

/** `{"status":1,"server":{"client_id","client_secret","endpoint_url"}}`; undefined when unusable. */
export function readServerDetails(body: unknown): DirectServer | undefined {
  const server = body && typeof body === 'object' ? (body as { server?: unknown }).server : undefined;
  if (!server || typeof server !== 'object') return undefined;
  const s = server as Record<string, unknown>;
  const endpointUrl = text(s.endpoint_url)?.replace(/\/+$/, '').replace(/\/ims\/oneroster$/, '');
  const clientId = text(s.client_id);
  const clientSecret = text(s.client_secret);
  // ClassLink's own example has an empty secret: nothing to sign with.
  if (!endpointUrl || !/^https?:\/\/[^\s/]+/i.test(endpointUrl) || !URL.canParse(endpointUrl) || !clientId || !clientSecret) return undefined;
  return { endpointUrl, clientId, clientSecret };
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

/** Enabled, active tenants from a discovery answer; malformed entries are skipped, not fatal. */
export function readTenants(body: unknown, config: ClassLinkConfig): Tenant[] {
  const apps = body && typeof body === 'object' ? (body as { applications?: unknown }).applications : undefined;
  if (!Array.isArray(apps)) throw new Error('the discovery answer has no "applications" list');
  const tenants = new Map<string, Tenant>();
  for (const raw of apps) {
    if (!raw || typeof raw !== 'object') continue;
    const a = raw as Record<string, unknown>;
    const tenantId = text(a.tenant_id);
    const appId = text(a.oneroster_application_id);
    if (!tenantId || !/^\d{1,18}$/.test(tenantId) || !appId) continue;
    const enabled = text(a.enabled);
    if (enabled !== undefined && enabled.toLowerCase() !== 'true') continue;
    const status = text(a.tenant_status);
    if (status !== undefined && status.toLowerCase() !== 'active') continue;
    // The id is a path segment: anything but unreserved characters and %XX is refused.
    if (!/^(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+$/.test(appId)) continue;
    const override = config.tenants[tenantId];
    if (override && !override.enabled) continue;
    const bearer = typeof a.bearer === 'string' && a.bearer && !/[\r\n\0]/.test(a.bearer) ? a.bearer : config.token;
    tenants.set(tenantId, {
      districtId: `${CLASSLINK_PREFIX}${tenantId}`,
      name: override?.name ?? text(a.tenant_name) ?? `ClassLink tenant ${tenantId}`,
      applicationId: appId,
      bearer,
    });
  }
  return [...tenants.values()];
}

/** The body as text, cut off (an error, never held whole) past `limit` bytes: ClassLink is a district-sized input too. */
async function readCapped(res: Response, limit: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`the answer is larger than ${limit} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        throw new Error(`the answer is larger than ${limit} bytes`);
      }
      chunks.push(value);
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface ClassLinkDiscoveryDeps {
  config: ClassLinkConfig;
  registry: MutableDistrictRegistry;
  /** Builds the client's half of a district config's chain (the composition root's factory). */
  buildClient(district: DistrictConfig): DistrictUpstreamClient;
  /** A district went away: drop its cache. */
  onRemoved(districtId: string): Promise<void> | void;
  logger: { info(o: object): void; warn(o: object): void };
  fetchImpl?: typeof fetch;
}

export function createClassLinkDiscovery(deps: ClassLinkDiscoveryDeps) {
  const { config, registry, logger } = deps;
  const fetchImpl = deps.fetchImpl ?? fetch;
  /** The live client per tenant; districts delegate to it, so a rotated bearer swaps only this. */
  const live = new Map<string, { tenant: Tenant; client: DistrictUpstreamClient }>();
  const revoked = new Set<string>();
  /** Direct-mode server details per application id, fetched once (again after a 401). */
  const details = new Map<string, DirectServer | undefined>();
  let timer: NodeJS.Timeout | undefined;

  const credentials = (t: Tenant) => JSON.stringify([t.applicationId, t.bearer, t.direct ?? null]);
  const modeOf = (t: Tenant) => config.tenants[t.districtId.slice(CLASSLINK_PREFIX.length)]?.mode ?? config.mode;

  async function fetchJson(url: string): Promise<unknown> {
    const res = await fetchImpl(url, {
      headers: { authorization: `Bearer ${config.token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(config.upstream.timeoutMs),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return JSON.parse(await readCapped(res, config.upstream.maxBodyBytes));
  }

  /** Direct mode: the tenant's own server, or (unusable details) the proxy, said once in the log. */
  async function withDirect(t: Tenant): Promise<Tenant> {
    if (modeOf(t) !== 'direct') return t;
    if (!details.has(t.applicationId)) {
      let server: DirectServer | undefined;
      try {
        server = readServerDetails(await fetchJson(`${config.discoveryUrl}/${t.applicationId}/server`));
      } catch {
        server = undefined;
      }
      if (!server) logger.warn({ msg: 'classlink direct mode unavailable for tenant; using the proxy', district: t.districtId });
      details.set(t.applicationId, server);
    }
    const server = details.get(t.applicationId);
    return server ? { ...t, direct: server } : t;
  }
  let running: Promise<void> | undefined;

  function districtConfig(t: Tenant): DistrictConfig {
    const version = config.tenants[t.districtId.slice(CLASSLINK_PREFIX.length)]?.version ?? config.version;
    // Tenants are not mirrored (yet): the page cache serves them.
    const base = { id: t.districtId, name: t.name, version, upstream: config.upstream, cache: { collections: {} }, mirror: { enabled: false } };
    if (t.direct) {
      return {
        ...base,
        baseUrl: `${t.direct.endpointUrl}/ims/oneroster`,
        auth: { type: 'oauth1', consumerKey: t.direct.clientId, consumerSecret: t.direct.clientSecret, signatureMethod: 'HMAC-SHA256' },
      };
    }
    return { ...base, baseUrl: `${config.proxyBaseUrl}/${t.applicationId}/ims/oneroster`, auth: { type: 'bearer', token: t.bearer } };
  }

  /**
   * The tenant's live client, at the bottom of its district's chain: a rotated bearer swaps
   * only this, and the district's breaker, health and probe carry on. Its lifecycle is
   * discovery's: the live client is retired when the tenant goes or rotates.
   */
  function liveClient(districtId: string): DistrictUpstreamClient {
    return {
      districtId,
      async request(req) {
        const entry = live.get(districtId);
        if (!entry) throw new Error(`district ${districtId} is gone`);
        return entry.client.request(req);
      },
      close: async () => undefined,
      retire: async () => undefined,
      credentials: () => live.get(districtId)?.client.credentials() ?? [],
      queued: () => live.get(districtId)?.client.queued?.() ?? 0,
    };
  }

  /** On a 401 the tenant's bearer may have rotated: rediscover once, retry on the new client if it changed. */
  function rotation(districtId: string): Interceptor {
    return (next) =>
      async function rotated(req) {
        const before = live.get(districtId);
        if (!before) throw new Error(`district ${districtId} is gone`);
        // `next` reaches the live client, which is `before` until something is awaited.
        const res = await next(req);
        if (res.status !== 401) {
          revoked.delete(districtId);
          return res;
        }
        // Direct credentials may have rotated too: ask for them again.
        if (before.tenant.direct) details.delete(before.tenant.applicationId);
        await refresh();
        const after = live.get(districtId);
        if (after && credentials(after.tenant) !== credentials(before.tenant)) return next(req);
        if (!revoked.has(districtId)) logger.warn({ msg: 'classlink tenant refused the gateway', district: districtId });
        revoked.add(districtId);
        return res;
      };
  }

  function apply(tenants: Tenant[]): void {
    const seen = new Set<string>();
    for (const t of tenants) {
      seen.add(t.districtId);
      const current = live.get(t.districtId);
      if (current && credentials(current.tenant) === credentials(t) && current.tenant.name === t.name) continue;
      const client = deps.buildClient(districtConfig(t));
      live.set(t.districtId, { tenant: t, client });
      // Requests already sent with the old bearer finish; a 401 among them retries on the new client.
      if (current) void current.client.retire().catch(() => undefined);
    }
    for (const [id, entry] of live) {
      if (seen.has(id)) continue;
      live.delete(id);
      void entry.client.retire().catch(() => undefined);
    }
    const districts: District[] = tenants.map((t) => {
      const cfg = districtConfig(t);
      const existing = registry.get(t.districtId);
      if (existing && existing.source === 'classlink' && existing.name === t.name && existing.versionSetting === cfg.version && existing.upstreamBase === cfg.baseUrl) {
        return existing;
      }
      return assembleDistrict(
        {
          id: t.districtId,
          name: t.name,
          authType: cfg.auth.type,
          source: 'classlink',
          upstreamBase: cfg.baseUrl,
          maxStitchPages: config.upstream.maxStitchPages,
          maxBodyBytes: config.upstream.maxBodyBytes,
        },
        cfg.version,
        liveClient(t.districtId),
        {
          logger,
          extraHealth: () => (revoked.has(t.districtId) ? { revoked: true } : {}),
          upstream: config.upstream,
          rotation: rotation(t.districtId),
          // The tenant's live credentials (a bearer rotates under the same district), the
          // developer token, and every ClassLink URL the gateway calls.
          secrets: {
            secrets: () => {
              const now = live.get(t.districtId)?.tenant ?? t;
              return [...authSecrets(districtConfig(now).auth), config.token];
            },
            identifiers: () => authIdentifiers(districtConfig(live.get(t.districtId)?.tenant ?? t).auth),
            urls: [...authUrls(cfg.baseUrl, cfg.auth), config.discoveryUrl, config.proxyBaseUrl],
          },
        },
      );
    });
    for (const gone of registry.replaceSource('classlink', districts)) {
      logger.info({ msg: 'classlink tenant removed', district: gone.id });
      void Promise.resolve(deps.onRemoved(gone.id)).catch(() => undefined);
    }
  }

  async function discover(): Promise<void> {
    try {
      const tenants = await Promise.all(readTenants(await fetchJson(config.discoveryUrl), config).map(withDirect));
      apply(tenants);
      logger.info({ msg: 'classlink discovery', tenants: tenants.length });
    } catch (err) {
      // The last known set keeps serving; the URL and token never reach the log.
      logger.warn({ msg: 'classlink discovery failed', reason: err instanceof Error ? err.message.slice(0, 200) : 'unknown' });
    }
  }

  /** One discovery at a time; callers arriving meanwhile share it. */
  function refresh(): Promise<void> {
    running ??= discover().finally(() => (running = undefined));
    return running;
  }

  return {
    refresh,
    async start(): Promise<void> {
      await refresh();
      timer = setInterval(() => void refresh(), config.refreshSeconds * 1000);
      timer.unref();
    },
    isRevoked: (districtId: string) => revoked.has(districtId),
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      await running;
      await Promise.allSettled([...live.values()].map((e) => e.client.close()));
      live.clear();
    },
  };
}

export type ClassLinkDiscovery = ReturnType<typeof createClassLinkDiscovery>;
