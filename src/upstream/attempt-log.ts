// LOG_LEVEL=debug: one line per attempt sent to a district, each retry too, so an operator can
// see what the district did and why the gateway asked again. The line says the route template
// (never the path or query: sourcedIds and filter values), the status or the error code with
// its socket cause, the milliseconds, the attempt number and the retry reason. Never a URL,
// header, token or signature: nothing of the request's wire form is read here.
import { routeTemplate } from '../core/oneroster/route-template.js';
import type { Interceptor } from './dispatch.js';
import { UpstreamError } from './types.js';

export interface AttemptLogger {
  debug(o: object): void;
}

/**
 * Built only when debug is on (the composition root checks): at info the chain holds no step
 * and an attempt costs nothing more. Inside the retries, so each attempt is its own line.
 */
export function attemptLog(districtId: string, logger: AttemptLogger, now: () => number = performance.now.bind(performance)): Interceptor {
  if (typeof logger?.debug !== 'function') throw new Error('attemptLog: logger.debug must be a function');
  return (next) =>
    async function loggedAttempt(req) {
      const started = now();
      const line = {
        msg: 'upstream attempt',
        district: districtId,
        route: routeTemplate(req.method, req.path),
        attempt: req.attempt?.number ?? 1,
        retryReason: req.attempt?.retryReason,
      };
      try {
        const res = await next(req);
        // The time on the wire (the district's), queue wait excluded.
        logger.debug({ ...line, status: res.status, ms: round(res.elapsedMs) });
        return res;
      } catch (err) {
        const failure = err instanceof UpstreamError ? { error: err.code, cause: err.detail.cause, stage: err.detail.stage } : { error: 'error' };
        // No answer: the time since the attempt began, a wait for a slot included.
        logger.debug({ ...line, ...failure, ms: round(now() - started) });
        throw err;
      }
    };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
