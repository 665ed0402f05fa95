// The floor of a miss: a bare node:http server that forwards each GET to the district and
// sends its answer back, bytes untouched, with no cache, no parsing, no logging. What it spends
// per page is what receiving and re-sending the bytes costs any Node proxy.
//   node bench/bare-proxy.mjs <port> <upstream origin> <bearer token>
import { createServer, request, Agent } from 'node:http';

const [port, origin, token] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const upstream = new URL(origin);

createServer((req, res) => {
  const up = request(
    { host: upstream.hostname, port: upstream.port, path: req.url, agent, headers: { authorization: `Bearer ${token}` } },
    (r) => {
      const headers = {};
      for (const h of ['content-type', 'content-length', 'x-total-count']) if (r.headers[h] !== undefined) headers[h] = r.headers[h];
      // Its links point at the district: re-pointed here, so a client following them stays on this proxy.
      if (r.headers.link) headers.link = r.headers.link.replaceAll(upstream.origin, `http://127.0.0.1:${port}`);
      res.writeHead(r.statusCode, headers);
      r.pipe(res);
    },
  );
  up.on('error', () => res.destroy());
  up.end();
}).listen(Number(port), '127.0.0.1', () => console.log('ready'));
