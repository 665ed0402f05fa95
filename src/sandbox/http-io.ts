// Small node:http helpers: read a body with a size cap, write a reply.

import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Serialized as JSON unless it is already a string. Absent: no body. */
  body?: unknown;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function writeReply(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { ...reply.headers };
  let payload: string | undefined;
  if (reply.body !== undefined) {
    payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = 'application/json; charset=utf-8';
    }
    headers['Content-Length'] = String(Buffer.byteLength(payload));
  } else if (reply.status !== 204 && reply.status !== 304) {
    headers['Content-Length'] = '0'; // RFC 9110 §8.6: never on 204/304
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** The raw (still percent-encoded) path and query of a request line. */
export function splitRawUrl(rawUrl: string | undefined): { path: string; query: string } {
  const url = rawUrl ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}
