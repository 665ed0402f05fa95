// A client's rate limit, asked once per request when it is known whether the answer comes
// from the cache (a hit costs the client `hitCost` of a request) or from the district (a whole
// one). Built once at start-up around the shared token buckets; the request carries only who
// asks, never a closure.
import { GatewayError } from '../core/errors.js';

/** Who asks, as far as admission cares: the client and its limit. */
export interface AdmissionCaller {
  clientId: string;
  rateLimit: { requestsPerSecond: number; burst?: number; hitCost: number };
}

/** Throws 429 (server_busy, Retry-After) to refuse. */
export type Admission = (caller: AdmissionCaller, kind: 'hit' | 'miss') => Promise<void>;

export interface ClientAdmissionOptions {
  /** Takes from a token bucket (in Redis, shared by the replicas, when the cache is). */
  take(key: string, cost: number, rate: { requestsPerSecond: number; burst?: number }): Promise<{ ok: boolean; retryAfterMs: number }>;
  /** A client refused (metrics). */
  onRefused?(clientId: string): void;
}

export function createClientAdmission(options: ClientAdmissionOptions): Admission {
  if (typeof options?.take !== 'function') throw new TypeError('createClientAdmission: take is required');
  return async function admit({ clientId, rateLimit }, kind) {
    const cost = kind === 'hit' ? rateLimit.hitCost : 1;
    if (cost === 0) return;
    const taken = await options.take(`client:${clientId}`, cost, rateLimit);
    if (taken.ok) return;
    options.onRefused?.(clientId);
    const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
    throw new GatewayError('rate_limited', `Client "${clientId}" is over its rate limit of ${rateLimit.requestsPerSecond} requests per second; retry after ${seconds} s.`, {
      headers: { 'retry-after': String(seconds) },
    });
  };
}
