// The baseline for the hit path: a bare @hono/node-server answering fixed bytes from memory.
//   node bench/bare-server.mjs <port> <body file> <headers json>
import { readFileSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const [port, bodyFile, headersJson] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const headers = JSON.parse(headersJson);
const app = new Hono();
app.get('*', () => new Response(body, { status: 200, headers }));
serve({ fetch: app.fetch, port: Number(port), hostname: '127.0.0.1' }, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
