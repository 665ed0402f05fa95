import { GatewayError } from '../core/errors.js';

/** Bounds on what a client may send, checked before any parsing work (server.limits). */
export interface InputLimits {
  maxUrlBytes: number;
  maxQueryParams: number;
  maxQueryValueBytes: number;
  maxWriteBodyBytes: number;
  /** POST /oauth/token reads its body before it knows who is asking: a small bound. */
  maxTokenBodyBytes: number;
  /** Longest pause between two chunks of a request body (408 after). */
  bodyIdleTimeoutMs: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxUrlBytes: 8192,
  maxQueryParams: 50,
  maxQueryValueBytes: 4096,
  maxWriteBodyBytes: 1_048_576,
  maxTokenBodyBytes: 8192,
  bodyIdleTimeoutMs: 5000,
};

/** The raw (still encoded) path and query against the limits: 414, or 400 naming the limit. */
export function checkUrl(rawPath: string, rawQuery: string, limits: InputLimits): void {
  if (rawPath.length + rawQuery.length + 1 > limits.maxUrlBytes) {
    throw new GatewayError('url_too_long', `The URL is longer than ${limits.maxUrlBytes} bytes.`);
  }
  if (!rawQuery) return;
  let count = 0;
  for (let start = 0; start <= rawQuery.length; ) {
    let end = rawQuery.indexOf('&', start);
    if (end < 0) end = rawQuery.length;
    if (end > start) {
      if (++count > limits.maxQueryParams) throw new GatewayError('invalid_query', `The query has more than ${limits.maxQueryParams} parameters.`);
      const eq = rawQuery.indexOf('=', start);
      const valueBytes = eq >= 0 && eq < end ? end - eq - 1 : 0;
      if (valueBytes > limits.maxQueryValueBytes || end - start > limits.maxQueryValueBytes + 64) {
        throw new GatewayError('invalid_query', `A query parameter is longer than ${limits.maxQueryValueBytes} bytes.`);
      }
    }
    start = end + 1;
  }
}
