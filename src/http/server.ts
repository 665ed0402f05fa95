// The listening socket: Node's HTTP server around the app's fetch handler, with the limits
// that protect it from slow clients, parser errors in the JSON envelope, and a drain that
// lets in-flight requests finish at shutdown.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { getRequestListener, type ServerType } from '@hono/node-server';
import { listenFailure } from '../core/errors.js';
import { safeErrorFields, type Logger } from '../observability/logger.js';
import { parserErrorBytes, requestErrorResponse } from './error-response.js';

export interface ListenOptions {
  host: string;
  port: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

export interface Listening {
  readonly port: number;
  /** http://host:port, in loopback form when bound to all interfaces. */
  readonly url: string;
  /** Stops accepting; idle keep-alive sockets go at once, busy ones when done or after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

type Fetch = (raw: Request, env?: unknown) => Response | Promise<Response>;

export async function listen(fetch: Fetch, options: ListenOptions, logger: Logger): Promise<Listening> {
  // serve() without its errorHandler would answer what @hono/node-server cannot make a Request
  // of (a backslash in the path, a bad Host header) with a bare 400, outside the JSON envelope.
  const listener = getRequestListener(fetch, {
    hostname: options.host,
    errorHandler(err) {
      if (!(err instanceof Error && err.name === 'RequestError')) logger.error({ msg: 'unhandled error', ...safeErrorFields(err) });
      return requestErrorResponse(err);
    },
  });
  // Slow clients (slowloris): Node refuses a headersTimeout over the requestTimeout, and checks
  // both only every connectionsCheckingInterval (30 s by default), so a few seconds' timeout
  // needs a check at least a few times per timeout.
  const headersTimeout = Math.min(options.headersTimeoutMs, options.requestTimeoutMs);
  const serverOptions = {
    headersTimeout,
    requestTimeout: options.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = createServer(serverOptions, listener);
    // Node's message names neither host nor port when the port is taken; the operator needs both.
    s.once('error', (err: NodeJS.ErrnoException) => reject(listenFailure(err.code, options.host, options.port)));
    s.listen(options.port, options.host, () => resolve(s));
  });
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    // Node's own answer has no body; a half-sent response cannot take another (a request timeout
    // can fire while an early answer to a still-arriving body is being written: Node checks this too).
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) return void socket.destroy();
    // The method is readable even when the rest of the request line is not (e.g. a byte > 0x7e in the URL).
    socket.end(parserErrorBytes(err.code, err.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD '));
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets go as soon as they are idle (their responses said Connection: close).
      const idle = () => 'closeIdleConnections' in server && server.closeIdleConnections();
      idle();
      const sweeper = setInterval(idle, 50);
      const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([closed, grace]);
      clearInterval(sweeper);
      if ('closeAllConnections' in server) server.closeAllConnections();
    },
  };
}
