import { intercept, type Interceptor } from './dispatch.js';
import type { UpstreamClient } from './types.js';

/** What an operator reads in GET /districts: when the district last answered, and last failed. */
export interface DistrictHealth {
  lastSuccessAt?: string;
  lastFailureAt?: string;
  /** HTTP status or transport error code of the last failure; never a message (it may quote URLs). */
  lastFailure?: string;
  /** A ClassLink tenant that keeps refusing the gateway. */
  revoked?: boolean;
}

export interface HealthRecorder {
  readonly intercept: Interceptor;
  health(): DistrictHealth;
}

/**
 * Records each outcome. A 2xx-4xx answer is the district working (a 404 is an answer);
 * 5xx, 401/403 (our credentials refused) and transport errors are failures.
 */
export function createHealth(now: () => number = Date.now): HealthRecorder {
  const state: DistrictHealth = {};
  const fail = (what: string) => {
    state.lastFailureAt = new Date(now()).toISOString();
    state.lastFailure = what;
  };
  return {
    health: () => ({ ...state }),
    intercept: (next) =>
      async function watched(req) {
        try {
          const res = await next(req);
          if (res.status >= 500 || res.status === 401 || res.status === 403) fail(`HTTP ${res.status}`);
          else state.lastSuccessAt = new Date(now()).toISOString();
          return res;
        } catch (err) {
          fail((err as { code?: string }).code ?? 'error');
          throw err;
        }
      },
  };
}

/** One client with its health recorded (tests and tools); its lifecycle stays its own. */
export function withHealth(client: UpstreamClient, now: () => number = Date.now): { client: UpstreamClient; health: () => DistrictHealth } {
  const recorder = createHealth(now);
  return { client: intercept(client, recorder.intercept), health: recorder.health };
}
