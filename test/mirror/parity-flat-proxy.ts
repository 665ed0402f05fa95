// A OneRoster server without relationship routes, as some districts run: a node:http proxy in
// front of a sandbox that answers 404 for any path with an id followed by another segment
// (/schools/x/teachers, /classes/x/students) and forwards the rest, its own address put in
// place of the sandbox's in bodies and Link headers so the district looks like one server.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FlatProxy {
  readonly url: string;
  /** The proxy's OneRoster root, the district's baseUrl. */
  readonly baseUrl: string;
  /** Requests it received, nested ones included. */
  readonly hits: string[];
  close(): Promise<void>;
}

const ROOT = /^\/ims\/oneroster\/(?:v1p1|(?:rostering|gradebook|resources)\/v1p2)\//;

/** A path below the version root with more than `collection/id`. */
export function isNested(path: string): boolean {
  const m = ROOT.exec(path);
  return !!m && path.slice(m[0].length).split('/').length > 2;
}

export async function startFlatProxy(sandboxUrl: string): Promise<FlatProxy> {
  const hits: string[] = [];
  let origin = '';
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    forward(req, res).catch((err: unknown) => {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(String(err));
    });
  });

  async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (isNested(url.split('?')[0]!)) {
      const body = { statusInfoSet: [{ imsx_codeMajor: 'failure', imsx_severity: 'error', imsx_codeMinor: 'unknown object', imsx_description: 'no such endpoint' }] };
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    const upstream = await fetch(`${sandboxUrl}${url}`, {
      method: req.method ?? 'GET',
      headers: req.headers.authorization ? { authorization: req.headers.authorization } : {},
    });
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'x-total-count', 'link', 'www-authenticate']) {
      const v = upstream.headers.get(name);
      if (v !== null) headers[name] = v.replaceAll(sandboxUrl, origin);
    }
    res.writeHead(upstream.status, headers).end((await upstream.text()).replaceAll(sandboxUrl, origin));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    baseUrl: `${origin}/ims/oneroster`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
