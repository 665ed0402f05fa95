// The composition root: builds the services once (gateway-services.ts), listens
// (http/server.ts), reloads (gateway-reload.ts) and shuts down, in that order. It only composes.
import type { GatewayConfig } from './config/schema.js';
import { buildServices } from './gateway-services.js';
import { createReloader } from './gateway-reload.js';
import { splitOps } from './http/ops-split.js';
import { listen } from './http/server.js';
import type { Logger } from './observability/logger.js';

export interface RunningGateway {
  /** http://host:port the gateway listens on (loopback form when bound to all interfaces). */
  readonly url: string;
  readonly port: number;
  /** With admin.listen: http://host:port of the listener for /metrics and /admin. */
  readonly adminUrl?: string;
  /**
   * Applies a new, already validated config without dropping a request: districts (new,
   * changed, removed), clients and cache freshness. Returns the sections that changed but
   * only take effect at a restart.
   */
  reload(next: Readonly<GatewayConfig>): Promise<{ restartNeeded: string[] }>;
  /** A reload refused before it reached reload() (the file was unreadable or invalid): counted in the metrics. */
  reloadRefused(): void;
  /** ClassLink discovery, when configured: `refresh()` re-reads the tenant list now. */
  readonly classlink?: { refresh(): Promise<void> };
  /** Stops accepting, lets in-flight requests finish within the grace period, closes upstreams. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  /** Clock for tokens and upstream token expiry (tests). */
  now?: () => number;
}

/** Builds every service once, then listens. The config's URLs are http(s): sandboxes are the CLI's (src/sandbox-host.ts). */
export async function startGateway(config: Readonly<GatewayConfig>, options: StartOptions): Promise<RunningGateway> {
  const { logger } = options;
  let ready = false;
  const services = await buildServices(config, { ...options, isReady: () => ready });
  const { classlink, sync, mirror } = services;
  // The first discovery before listening, so the tenants are there for the first request.
  await classlink?.start();
  const { server } = config;
  const timeouts = { headersTimeoutMs: server.limits.headersTimeoutMs, requestTimeoutMs: server.limits.requestTimeoutMs };
  // admin.listen: /metrics and /admin on a listener of their own, and not on the public one.
  const ops = config.admin?.listen;
  const split = ops ? splitOps(services.http.fetch) : undefined;
  const listening = await listen(split?.public ?? services.http.fetch, { host: server.host, port: server.port, ...timeouts }, logger);
  const opsListening = ops && split ? await listen(split.ops, { host: ops.host, port: ops.port, ...timeouts }, logger) : undefined;
  ready = true;
  sync?.start();
  mirror.start();
  logger.info({ msg: 'listening', host: server.host, port: listening.port, districts: services.districts.list().length });
  if (ops && opsListening) logger.info({ msg: 'listening for /metrics and /admin', host: ops.host, port: opsListening.port });

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    // Readiness drops first so a load balancer stops sending new requests; the listener
    // stays open for drainDelayMs so requests routed before the balancer noticed still land.
    ready = false;
    logger.info({ msg: 'draining', drainDelayMs: server.drainDelayMs, graceMs: server.shutdownGraceMs });
    if (server.drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, server.drainDelayMs));
    await Promise.all([listening.close(server.shutdownGraceMs), opsListening?.close(server.shutdownGraceMs)]);
    await sync?.stop();
    await mirror.stop();
    await mirror.store.close();
    await classlink?.stop();
    await services.districts.close();
    await services.backend.close();
    await services.limits.close();
    logger.info({ msg: 'stopped' });
  }

  return {
    reload: createReloader(config, services, logger),
    reloadRefused: () => services.metrics?.configReload('failure'),
    url: listening.url,
    port: listening.port,
    ...(opsListening ? { adminUrl: opsListening.url } : {}),
    ...(classlink ? { classlink: { refresh: () => classlink.refresh() } } : {}),
    close: () => (closing ??= close()),
  };
}
