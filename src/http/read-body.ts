import { GatewayError } from '../core/errors.js';

export interface BodyLimits {
  /** Most bytes taken; a declared or streamed body over it is refused with `tooLarge`. */
  maxBytes: number;
  /** Longest wait for the next chunk (the first one too); longer: 408 request_timeout. */
  idleTimeoutMs: number;
  /**
   * The caller's refusal of an oversized body (a write says 413, the token endpoint speaks
   * OAuth). `headers` must go on it: they close the connection.
   */
  tooLarge(headers: Record<string, string>): GatewayError;
}

// Every refusal here leaves the rest of the body unread: without Connection: close, Node would
// read (and drop) all of a 600 MB upload to keep the connection for another request.
const CLOSE = Object.freeze({ connection: 'close' });

type Reader = ReadableStreamDefaultReader<Uint8Array>;
type ReadResult = Awaited<ReturnType<Reader['read']>>;

function checkLimits(limits: BodyLimits): void {
  if (!(Number.isSafeInteger(limits?.maxBytes) && limits.maxBytes > 0)) throw new Error('readBody: maxBytes must be a positive integer');
  if (!(Number.isFinite(limits.idleTimeoutMs) && limits.idleTimeoutMs > 0)) throw new Error('readBody: idleTimeoutMs must be positive');
  if (typeof limits.tooLarge !== 'function') throw new Error('readBody: tooLarge is required');
}

/** The next chunk, or a 408 when none comes within `ms`: a client trickling its body holds a connection and a buffer. */
function readWithin(reader: Reader, ms: number): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new GatewayError('request_timeout', `The request body stalled for more than ${ms} ms.`, { headers: { ...CLOSE } })),
      ms,
    );
    reader.read().then(
      (r) => {
        clearTimeout(timer);
        resolve(r);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * A request body, refused at its bound while it streams in: a declared Content-Length over
 * `maxBytes` before any byte is read, a chunked body as soon as it passes the bound, and a
 * body that pauses longer than `idleTimeoutMs`. Buffering first and measuring after would let
 * one client fill the gateway's memory.
 */
export async function readBody(raw: Request, limits: BodyLimits): Promise<Buffer> {
  checkLimits(limits);
  const declared = Number(raw.headers.get('content-length') ?? '0');
  if (declared > limits.maxBytes) throw limits.tooLarge({ ...CLOSE });
  if (!raw.body) return Buffer.alloc(0);
  const reader = raw.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      let next: ReadResult;
      try {
        next = await readWithin(reader, limits.idleTimeoutMs);
      } catch (err) {
        if (err instanceof GatewayError) throw err;
        // The client went away mid-body: nobody reads this answer, but it must not count as ours (500).
        throw new GatewayError('invalid_body', 'The request body was not received completely.', { headers: { ...CLOSE } });
      }
      if (next.done) break;
      size += next.value.byteLength;
      if (size > limits.maxBytes) throw limits.tooLarge({ ...CLOSE });
      chunks.push(next.value);
    }
  } catch (err) {
    // Stops the read in progress (@hono/node-server's body stream leaves the socket to the answer's Connection: close).
    await reader.cancel().catch(() => undefined);
    throw err;
  }
  return Buffer.concat(chunks, size);
}
