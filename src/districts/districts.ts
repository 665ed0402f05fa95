import type { Version } from '../core/oneroster/endpoints.js';
import type { DistrictConfig, UpstreamAuthConfig, UpstreamOptions } from '../config/schema.js';
import type { BreakerState } from '../upstream/breaker.js';
import { composeDistrictUpstream, createUpstreamClient, type DistrictUpstreamClient, type UpstreamClientDeps } from '../upstream/chain.js';
import type { Interceptor } from '../upstream/dispatch.js';
import type { DistrictHealth } from '../upstream/health.js';
import type { UpstreamClient } from '../upstream/types.js';
import type { VersionProbe } from '../upstream/version-probe.js';
import { createRedactor, type Redactor } from '../core/redact.js';
import { createByteLedger, type ByteLedger } from '../core/byte-ledger.js';

/** A district as the request path sees it: what it speaks and how to reach it. */
export interface District {
  readonly id: string;
  readonly name: string;
  /**
   * What the district speaks. With `version: auto` it is the probed answer, meaningful
   * once `versionProbe.settle()` has resolved (the cached proxy and delta sync settle first).
   */
  readonly version: Version;
  /** As configured: a version, or `auto`. */
  readonly versionSetting: Version | 'auto';
  readonly versionProbe?: VersionProbe;
  readonly authType: 'oauth1' | 'oauth2' | 'bearer';
  /** Where the district came from: the config file, or ClassLink discovery. */
  readonly source: 'config' | 'classlink';
  /** The upstream OneRoster root; internal only, never shown to clients. */
  readonly upstreamBase: string;
  /** Bound on upstream pages fetched to fill one client page. */
  readonly maxStitchPages: number;
  /** districts[].upstream.maxBodyBytes: also bounds a page assembled from several answers. */
  readonly maxBodyBytes: number;
  /**
   * The district's answers read and not yet turned into a client's answer (maxInFlightBytes):
   * what many concurrent assemblies of large pages would otherwise hold without bound.
   */
  readonly held: ByteLedger;
  /** Replaces the district's credentials, hosts and vendor paths in anything it says to a client. */
  readonly redactor: Redactor;
  readonly upstream: UpstreamClient;
  /** Last upstream success and failure, for GET /districts. */
  readonly health?: () => DistrictHealth;
  /** The district's circuit breaker, for GET /districts; absent when built without upstream options. */
  readonly breaker?: () => BreakerState;
  /** Replaced while serving: its requests finish, then its client closes (else `upstream.close()`). */
  readonly retire?: () => Promise<void>;
  /** Requests waiting for one of its concurrency slots in this process (metrics). */
  readonly queued?: () => number;
}

// The seam for live district sources (ClassLink discovery, config reload): callers only
// look districts up; who adds and removes them is behind this interface.
export interface DistrictRegistry {
  get(id: string): District | undefined;
  list(): District[];
  close(): Promise<void>;
}

export interface MutableDistrictRegistry extends DistrictRegistry {
  /**
   * Makes `districts` the whole set from `source`: new ones appear, changed ones are
   * replaced, missing ones go. Returns the districts that went (their clients are retired
   * here: closed once their in-flight requests finish; the caller drops their cache).
   */
  replaceSource(source: District['source'], districts: readonly District[]): District[];
}

/** The districts requests can reach; config districts and discovered ones side by side. */
export function createDistrictRegistry(initial: readonly District[] = []): MutableDistrictRegistry {
  const byId = new Map(initial.map((d) => [d.id, d]));
  // Requests already routed to a replaced district finish on its old client.
  const retire = (d: District) => void (d.retire ? d.retire() : d.upstream.close()).catch(() => undefined);
  return {
    get: (id) => byId.get(id),
    list: () => [...byId.values()],
    replaceSource(source, districts) {
      const next = new Map(districts.map((d) => [d.id, d]));
      const removed: District[] = [];
      for (const [id, d] of byId) {
        if (d.source !== source) continue;
        const replacement = next.get(id);
        if (replacement === d) continue;
        byId.delete(id);
        if (!replacement) removed.push(d);
        retire(d);
      }
      for (const [id, d] of next) {
        const existing = byId.get(id);
        // A config district keeps its id: discovery never shadows what an operator wrote.
        if (existing && existing.source !== source) continue;
        byId.set(id, d);
      }
      return removed;
    },
    async close() {
      await Promise.allSettled([...byId.values()].map((d) => d.upstream.close()));
    },
  };
}

export type DistrictFields = Pick<District, 'id' | 'name' | 'authType' | 'source' | 'upstreamBase' | 'maxStitchPages' | 'maxBodyBytes'>;

/** What the gateway holds for a district that no client may see: credentials and the URLs it calls. */
export interface DistrictSecrets {
  /**
   * Credentials, asked on each use (a ClassLink bearer rotates). Those the district's client
   * obtains at run time (OAuth2 access tokens) are added from its chain, not listed here.
   */
  secrets(): readonly string[];
  /** Account names (consumer key, client id): kept out of error text. */
  identifiers?: () => readonly string[];
  /** Every URL the gateway calls for the district (baseUrl, token URL, ClassLink endpoints). */
  urls: readonly string[];
}

/** The credentials an upstream auth block holds: redacted from anything a client reads. */
export function authSecrets(auth: UpstreamAuthConfig): string[] {
  switch (auth.type) {
    case 'oauth1':
      return [auth.consumerSecret];
    case 'oauth2':
      return [auth.clientSecret];
    case 'bearer':
      return [auth.token];
  }
}

/** The gateway's account names at the district: redacted from error text (records may hold the same words). */
export function authIdentifiers(auth: UpstreamAuthConfig): string[] {
  return auth.type === 'oauth1' ? [auth.consumerKey] : auth.type === 'oauth2' ? [auth.clientId] : [];
}

/** The URLs the gateway calls for a district config. */
export function authUrls(baseUrl: string, auth: UpstreamAuthConfig): string[] {
  return auth.type === 'oauth2' ? [baseUrl, auth.tokenUrl] : [baseUrl];
}

/** The hosts (`host`, `host:port`) and non-OneRoster path prefixes of a district's URLs. */
export function districtRedactor(secrets: DistrictSecrets): Redactor {
  const hosts: string[] = [];
  const paths: string[] = [];
  for (const raw of secrets.urls) {
    if (!URL.canParse(raw)) continue;
    const u = new URL(raw);
    hosts.push(u.host, u.hostname);
    // What precedes /ims/oneroster (a vendor prefix such as /aeries or /campus/api), or the
    // whole path of a token URL; OneRoster's own root says nothing about the district.
    const path = decodeURIComponentSafe(u.pathname).replace(/\/+$/, '');
    const at = path.toLowerCase().indexOf('/ims/oneroster');
    const prefix = at >= 0 ? path.slice(0, at) : path;
    if (prefix.length > 1) paths.push(prefix);
  }
  return createRedactor({ secrets: secrets.secrets, ...(secrets.identifiers ? { identifiers: secrets.identifiers } : {}), hosts, paths });
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export interface AssembleDeps {
  logger: { info(o: object): void; warn(o: object): void };
  /** Clock of the breaker, health and version probe. */
  now?: () => number;
  extraHealth?: () => Partial<DistrictHealth>;
  /** The district's upstream options: retry, breaker, and the bound on answers held at once. */
  upstream: UpstreamOptions;
  /** Credentials and URLs to keep from clients; without them only the baseUrl's address is. */
  secrets?: DistrictSecrets;
  /** ClassLink: between the retries and the client, a 401 may mean a rotated bearer. */
  rotation?: Interceptor;
}

/**
 * A district around its upstream client: the district's half of the chain is composed in
 * src/upstream/chain.ts, and what the District shows (health, breaker, version probe) and how
 * it ends (retire, close) come from the composed chain. For `version: auto` the version is asked
 * of the district (provisionally v1p2 until then).
 */
export function assembleDistrict(fields: DistrictFields, versionSetting: Version | 'auto', client: DistrictUpstreamClient, deps: AssembleDeps): District {
  const upstream = composeDistrictUpstream(client, {
    upstream: deps.upstream,
    probeVersion: versionSetting === 'auto',
    logger: deps.logger,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.rotation ? { rotation: deps.rotation } : {}),
  });
  const secrets = deps.secrets ?? { secrets: () => [], urls: [fields.upstreamBase] };
  const redactor = districtRedactor({ ...secrets, secrets: () => [...secrets.secrets(), ...upstream.credentials()] });
  const held = createByteLedger(deps.upstream.maxInFlightBytes ?? 2 * fields.maxBodyBytes);
  const health = deps.extraHealth ? () => ({ ...upstream.health(), ...deps.extraHealth!() }) : upstream.health;
  const common = { ...fields, redactor, held, versionSetting, upstream, health, breaker: upstream.breaker, retire: upstream.retire, ...(upstream.queued && { queued: upstream.queued }) };
  const probe = upstream.versionProbe;
  if (!probe) return { ...common, version: versionSetting as Version };
  return {
    ...common,
    get version() {
      return probe.current() ?? 'v1p2';
    },
    versionProbe: probe,
  };
}

/** A district from the config file: its client (the client's half of the chain) and the district around it. */
export function configDistrict(d: DistrictConfig, deps: UpstreamClientDeps & { logger: AssembleDeps['logger'] }): District {
  return assembleDistrict(
    {
      id: d.id,
      name: d.name ?? d.id,
      authType: d.auth.type,
      source: 'config',
      upstreamBase: d.baseUrl,
      maxStitchPages: d.upstream.maxStitchPages,
      maxBodyBytes: d.upstream.maxBodyBytes,
    },
    d.version,
    createUpstreamClient(d, deps),
    {
      logger: deps.logger,
      ...(deps.now ? { now: deps.now } : {}),
      upstream: d.upstream,
      secrets: { secrets: () => authSecrets(d.auth), identifiers: () => authIdentifiers(d.auth), urls: authUrls(d.baseUrl, d.auth) },
    },
  );
}

/** A fixed set (tests and tools). */
export function createStaticDistrictRegistry(districts: readonly District[]): DistrictRegistry {
  return createDistrictRegistry(districts);
}
