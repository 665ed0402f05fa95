import type { Context } from 'hono';
import { GatewayError } from '../core/errors.js';
import type { AppEnv } from './env.js';

/** The JSON body of a gradebook write, checked for type, size and syntax before any upstream call. */
export async function readWriteBody(c: Context<AppEnv>, maxBytes: number): Promise<{ text: string; value: unknown }> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new GatewayError('unsupported_media_type', 'Write requests must have Content-Type: application/json.');
  }
  const tooLarge = () => new GatewayError('payload_too_large', `The request body is larger than ${maxBytes} bytes.`);
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > maxBytes) throw tooLarge();
  // Read in chunks and stop at the bound: a chunked body declares no length, and buffering
  // all of it first would let one client fill the gateway's memory.
  const chunks: Uint8Array[] = [];
  let size = 0;
  const body = c.req.raw.body;
  if (body) {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
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
