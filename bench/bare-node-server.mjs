// The floor for any Node server on the hit path: node:http (no hono, no Request/Response
// objects) answering fixed bytes from memory with the same headers as bench/bare-server.mjs.
//   node bench/bare-node-server.mjs <port> <body file> <headers json>
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [port, bodyFile, headersJson] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const headers = { ...JSON.parse(headersJson), 'content-length': String(body.length) };
createServer((req, res) => {
  res.writeHead(200, headers);
  res.end(body);
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
