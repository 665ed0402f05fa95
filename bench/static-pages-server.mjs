// The baseline for a warm full pull: a bare @hono/node-server answering, from memory, copies
// of every page a gateway serves (same bytes, same headers, Link headers pointing here). At
// start it pulls the pages from the gateway itself, following rel="next" from each start path.
//   node bench/static-pages-server.mjs <port> '{"origin":"http://gw","token":"...","starts":["/districts/d/...?limit=1000&offset=0"]}'
// Prints "ready <pages> <bytes>" when it serves.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { request } from 'undici';
import { nextLink } from './sync-client.mjs';

const [port, json] = process.argv.slice(2);
const { origin, token, starts } = JSON.parse(json);
const own = `http://127.0.0.1:${port}`;
const KEEP = ['content-type', 'x-total-count', 'link', 'cache-control', 'x-cache', 'age'];
const pages = new Map();
let bytes = 0;
for (const start of starts) {
  for (let url = `${origin}${start}`; url; ) {
    const res = await request(url, { headers: { authorization: `Bearer ${token}` } });
    const body = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode}`);
    const headers = {};
    for (const h of KEEP) if (res.headers[h] !== undefined) headers[h] = String(res.headers[h]).split(origin).join(own);
    const u = new URL(url);
    pages.set(`${u.pathname}${u.search}`, { body, headers });
    bytes += body.length;
    url = nextLink(res.headers.link);
  }
}
const app = new Hono();
app.get('*', (c) => {
  const u = new URL(c.req.url);
  const page = pages.get(`${u.pathname}${u.search}`);
  return page ? new Response(page.body, { status: 200, headers: page.headers }) : new Response('not found', { status: 404 });
});
serve({ fetch: app.fetch, port: Number(port), hostname: '127.0.0.1' }, () => process.stdout.write(`ready ${pages.size} ${bytes}\n`));
process.on('SIGTERM', () => process.exit(0));
