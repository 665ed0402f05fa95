import type { Context } from 'hono';
import { GatewayError } from '../core/errors.js';
import type { AppEnv } from './env.js';
import { DEFAULT_INPUT_LIMITS } from './input-limits.js';
import { readBody } from './read-body.js';

/** The JSON body of a gradebook write, checked for type, size and syntax before any upstream call. */
export async function readWriteBody(
  c: Context<AppEnv>,
  maxBytes: number,
  idleTimeoutMs: number = DEFAULT_INPUT_LIMITS.bodyIdleTimeoutMs,
): Promise<{ text: string; value: unknown }> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new GatewayError('unsupported_media_type', 'Write requests must have Content-Type: application/json.');
  }
  const bytes = await readBody(c.req.raw, {
    maxBytes,
    idleTimeoutMs,
    tooLarge: (headers) => new GatewayError('payload_too_large', `The request body is larger than ${maxBytes} bytes.`, { headers }),
  });
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new GatewayError('invalid_body', 'The request body must be a JSON object.');
  }
  return { text, value };
}
