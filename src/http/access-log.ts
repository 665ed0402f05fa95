import type { Context } from 'hono';
import { lineWriter, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AppEnv } from './env.js';

/** One request as its access line tells it. */
export interface AccessLine {
  requestId: string | undefined;
  method: string;
  /** The matched route pattern: a bounded set (a metrics label), never ids or junk paths. */
  route: string;
  clientId: string | undefined;
  district: string | undefined;
  status: number;
  cache: string | undefined;
  upstreamMs: number | undefined;
  /** performance.now() when the request arrived. */
  started: number;
}

export interface AccessLog {
  /** False while neither metrics nor the info log would take a line: callers build none. */
  wanted(): boolean;
  /** The request's metrics, and its access line when info logging is on. */
  write(line: AccessLine): void;
}

/** The one access-line writer: every route's requests end here, the fast path's too. */
export function accessLog(options: { logger: Logger; metrics?: Pick<Metrics, 'httpRequest'> | undefined }): AccessLog {
  const { logger, metrics } = options;
  // Every field below is the gateway's own (route templates, configured ids, checked request
  // ids): nothing to redact, and a hand-built line (lineWriter).
  const line = lineWriter(logger);
  return {
    wanted: () => metrics !== undefined || logger.isLevelEnabled('info'),
    write(a) {
      const totalMs = performance.now() - a.started;
      metrics?.httpRequest(a.district ?? '', a.route, a.status, a.cache ?? '', totalMs / 1000, a.clientId);
      if (!logger.isLevelEnabled('info')) return;
      line({
        msg: 'request',
        requestId: a.requestId,
        method: a.method,
        route: a.route,
        clientId: a.clientId,
        district: a.district,
        status: a.status,
        cache: a.cache,
        upstreamMs: a.upstreamMs,
        totalMs: Math.round(totalMs * 10) / 10,
      });
    },
  };
}

/**
 * The route label of a request hono routed: its pattern, `unmatched` for a 404 under a wildcard
 * (no route, or a OneRoster path no endpoint answers), so junk paths never become labels.
 */
export function honoRouteLabel(c: Context<AppEnv>, status: number): string {
  return `${c.req.method} ${status === 404 && c.req.routePath.includes('*') ? 'unmatched' : c.req.routePath}`;
}
