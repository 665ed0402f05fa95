// Every request sent to a district counted and timed, each retry attempt too: the chain holds
// this interceptor inside the retries, and the composition root hands it a plain function.
import type { Interceptor } from './dispatch.js';

/** Told once per attempt: the HTTP status and seconds on the wire, or the error code when no answer came. */
export type UpstreamMetricsHook = (districtId: string, outcome: number | string, seconds?: number) => void;

export function measured(districtId: string, hook: UpstreamMetricsHook): Interceptor {
  return (next) =>
    async function measuredRequest(req) {
      try {
        const res = await next(req);
        hook(districtId, res.status, res.elapsedMs / 1000);
        return res;
      } catch (err) {
        hook(districtId, (err as { code?: string }).code ?? 'error');
        throw err;
      }
    };
}
