// A OneRoster district that misbehaves on purpose: a node:http server on port 0 that counts
// what reaches it and answers in the mode a test switches it to. The modes are what real SIS
// servers and proxies in front of them have done to gateways: pages of hundreds of MB, bodies
// that never end, `offset` ignored, redirects to a login host, broken OAuth2 tokens, and
// Content-Length headers that lie. Data paths answer `{ "<collection>": [...] }` for any path;
// POST /oauth/token answers an OAuth2 token.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export type HostileMode =
  /** A small honest page of records with sourcedIds; `offset` and `limit` honoured, X-Total-Count sent. */
  | { kind: 'ok'; records?: number }
  /** `mb` MiB of valid JSON; with `declare`, a true Content-Length is sent first. */
  | { kind: 'huge'; mb: number; declare?: boolean }
  /** A JSON body that streams until the client goes away. */
  | { kind: 'endless' }
  /** The same page whatever the offset: `records` records without sourcedId, no total, no Link. */
  | { kind: 'ignoresOffset'; records?: number }
  /**
   * Changes without end: each list answer of `collection` is `records` records (whatever
   * `limit` asks) with sourcedIds never sent before, no total, no Link; other collections
   * answer an empty list, and `/<collection>/<id>` answers that one record.
   */
  | { kind: 'freshIds'; collection: string; records?: number }
  /** 302 to `location` (another host). */
  | { kind: 'redirect'; location: string }
  /** A gzip answer (a true Content-Length) that decodes to `mb` MiB of one JSON string: a decompression bomb. */
  | { kind: 'gzipBomb'; mb: number }
  /** A Content-Length that says `declared` bytes while `sent` bytes follow, then the socket closes. */
  | { kind: 'lyingLength'; declared: number; sent: number };

export type TokenMode =
  /** A usable token, `good-token-<n>`. */
  | { kind: 'good' }
  /** An access_token holding CR/LF (a header injection if it were sent). */
  | { kind: 'crlf' };

export interface HostileHit {
  method: string;
  url: string;
  /** 'token' for POST /oauth/token, 'data' for everything else. */
  kind: 'token' | 'data';
  authorization?: string;
}

export interface HostileDistrict {
  origin: string;
  /** Base URL for a district entry. */
  baseUrl: string;
  /** Token URL for an oauth2 district entry. */
  tokenUrl: string;
  port: number;
  hits: HostileHit[];
  dataHits(): number;
  tokenHits(): number;
  /** Bytes written to data responses since the last reset. */
  bytesSent(): number;
  /** Responses whose client went away before the body ended. */
  cutByClient(): number;
  setMode(mode: HostileMode): void;
  setTokenMode(mode: TokenMode): void;
  reset(): void;
  close(): Promise<void>;
}

const CHUNK_RECORDS = 200;

/** A record of about 330 bytes, shaped like a OneRoster user; `id` false drops the sourcedId, a string replaces it. */
function record(i: number, id: boolean | string): Record<string, unknown> {
  return {
    ...(id ? { sourcedId: typeof id === 'string' ? id : `u-${i}` } : {}),
    status: 'active',
    dateLastModified: '2024-01-01T00:00:00.000Z',
    username: `user${i}`,
    givenName: 'Given',
    familyName: 'Family',
    role: 'student',
    email: `user${i}@example.org`,
    orgs: [{ href: 'https://sis.example.org/orgs/o1', sourcedId: 'o1', type: 'org' }],
    filler: 'x'.repeat(120),
  };
}

function collectionOf(url: string): string {
  const path = url.split('?')[0]!.replace(/\/+$/, '');
  return path.slice(path.lastIndexOf('/') + 1) || 'users';
}

/**
 * Writes `{"<key>":[ records ... ]}` chunk by chunk, waiting for drain, until the body is
 * exactly `maxBytes` long (or forever) or the client goes away.
 */
async function streamRecords(res: ServerResponse, key: string, maxBytes: number | undefined, onBytes: (n: number) => void): Promise<void> {
  let gone = false;
  res.on('close', () => (gone = true));
  let written = 0;
  const write = async (text: string) => {
    // Every character is ASCII: length is the byte count.
    written += text.length;
    onBytes(text.length);
    if (!res.write(text) && !gone) await drainOrClose(res);
  };
  await write(`{"${key}":[`);
  for (let i = 0; !gone; i += CHUNK_RECORDS) {
    const sep = i === 0 ? '' : ',';
    const text = sep + Array.from({ length: CHUNK_RECORDS }, (_, j) => JSON.stringify(record(i + j, true))).join(',');
    if (maxBytes !== undefined) {
      const lastMin = `${sep}{"sourcedId":"u-last","filler":""}]}`.length;
      if (written + text.length + lastMin > maxBytes) {
        // The last record is padded so the body is exactly maxBytes.
        await write(`${sep}{"sourcedId":"u-last","filler":"${'x'.repeat(Math.max(0, maxBytes - written - lastMin))}"}]}`);
        res.end();
        return;
      }
    }
    await write(text);
  }
}

/** Waits for drain or close, leaving no listener behind (an endless body waits thousands of times). */
function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** The body length of a `huge` answer of `mb` MiB. */
function hugeLength(mb: number): number {
  return Math.floor(mb * 1024 * 1024);
}

export async function startHostileDistrict(): Promise<HostileDistrict> {
  let mode: HostileMode = { kind: 'ok' };
  let tokenMode: TokenMode = { kind: 'good' };
  let hits: HostileHit[] = [];
  let sent = 0;
  let cut = 0;
  let tokens = 0;
  let freshIds = 0;

  function answerToken(res: ServerResponse) {
    tokens++;
    const access_token = tokenMode.kind === 'crlf' ? `bad-token\r\nX-Injected: ${tokens}` : `good-token-${tokens}`;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ access_token, token_type: 'Bearer', expires_in: 3600 }));
  }

  async function answerData(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = collectionOf(url.pathname);
    res.on('close', () => {
      if (!res.writableFinished) cut++;
    });
    switch (mode.kind) {
      case 'ok': {
        const total = mode.records ?? 30;
        const offset = Number(url.searchParams.get('offset') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? 100);
        const records = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => record(offset + i, true));
        const body = JSON.stringify({ [key]: records });
        sent += body.length;
        res.writeHead(200, { 'content-type': 'application/json', 'x-total-count': String(total) });
        res.end(body);
        return;
      }
      case 'ignoresOffset': {
        const records = Array.from({ length: mode.records ?? 50 }, (_, i) => record(i, false));
        const body = JSON.stringify({ [key]: records });
        sent += body.length;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
        return;
      }
      case 'freshIds': {
        const segments = url.pathname.split('/');
        const single = segments[segments.length - 2] === mode.collection;
        const body = single
          ? JSON.stringify({ [mode.collection.replace(/s$/, '')]: record(0, segments[segments.length - 1]!) })
          : JSON.stringify({ [key]: key === mode.collection ? Array.from({ length: mode.records ?? 100 }, () => record(freshIds, `fresh-${freshIds++}`)) : [] });
        sent += body.length;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
        return;
      }
      case 'huge': {
        const length = hugeLength(mode.mb);
        res.writeHead(200, { 'content-type': 'application/json', ...(mode.declare ? { 'content-length': String(length) } : {}) });
        await streamRecords(res, key, length, (n) => (sent += n));
        return;
      }
      case 'endless':
        res.writeHead(200, { 'content-type': 'application/json' });
        await streamRecords(res, key, undefined, (n) => (sent += n));
        return;
      case 'redirect':
        res.writeHead(302, { location: mode.location, 'content-type': 'text/html' });
        res.end('<a href="elsewhere">moved</a>');
        return;
      case 'gzipBomb': {
        const body = gzipSync(Buffer.concat([Buffer.from(`{"${key}":"`), Buffer.alloc(mode.mb * 1024 * 1024, 'a'), Buffer.from('"}')]), { level: 9 });
        sent += body.length;
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(body.length) });
        res.end(body);
        return;
      }
      case 'lyingLength': {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(mode.declared) });
        const body = Buffer.alloc(mode.sent, ' ');
        sent += body.length;
        // Write what we have, then cut the connection: the declared rest never comes.
        res.write(body, () => setTimeout(() => res.socket?.destroy(), 20));
        return;
      }
    }
  }

  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const isToken = req.method === 'POST' && (req.url ?? '').startsWith('/oauth/token');
      hits.push({
        method: req.method ?? '',
        url: req.url ?? '',
        kind: isToken ? 'token' : 'data',
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      });
      if (isToken) answerToken(res);
      else void answerData(req, res).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    baseUrl: `${origin}/ims/oneroster`,
    tokenUrl: `${origin}/oauth/token`,
    port,
    get hits() {
      return hits;
    },
    dataHits: () => hits.filter((h) => h.kind === 'data').length,
    tokenHits: () => hits.filter((h) => h.kind === 'token').length,
    bytesSent: () => sent,
    cutByClient: () => cut,
    setMode(m) {
      mode = m;
    },
    setTokenMode(m) {
      tokenMode = m;
    },
    reset() {
      hits = [];
      sent = 0;
      cut = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
