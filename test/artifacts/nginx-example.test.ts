// config/nginx.example.conf as shipped: nginx accepts it (`nginx -t`), and run in front of a
// replica (its upstream and listener pointed at loopback, nothing else changed) it keeps a
// client's X-Request-Id and makes one for a request without, and keeps /metrics and /admin inside.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nginxBinary } from '../cluster/nginx.js';

const EXAMPLE = resolve('config/nginx.example.conf');
const bin = nginxBinary();
// As with Redis and PostgreSQL: CI installs Debian's nginx and must run these; a developer's
// machine without it is told so.
if (!bin && process.env.CI === 'true') throw new Error('CI needs nginx to check config/nginx.example.conf: apt-get install -y nginx');
if (!bin) console.warn('nginx not found (apt-get install nginx): config/nginx.example.conf is not checked here');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orgw-nginx-example-'));
  dirs.push(dir);
  for (const sub of ['logs', 'body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  return dir;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe.runIf(bin !== undefined)('config/nginx.example.conf', () => {
  it('passes nginx -t as shipped', () => {
    const dir = tempDir();
    const r = spawnSync(bin!, ['-t', '-c', EXAMPLE, '-p', `${dir}/`, '-e', join(dir, 'error.log'), '-g', `pid ${dir}/nginx.pid;`], { encoding: 'utf8' });
    expect(r.stderr).toContain('test is successful');
    expect(r.status).toBe(0);
  });

  it("keeps the client's X-Request-Id, gives one to a request without, and passes Host and X-Forwarded-For", async () => {
    const seen: Record<string, string | undefined>[] = [];
    const replica: Server = createServer((req, res) => {
      seen.push({ id: req.headers['x-request-id'] as string | undefined, host: req.headers.host, xff: req.headers['x-forwarded-for'] as string | undefined });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => replica.listen(0, '127.0.0.1', r));
    const replicaPort = (replica.address() as AddressInfo).port;
    const port = await freePort();
    const dir = tempDir();
    const shipped = readFileSync(EXAMPLE, 'utf8');
    // Only where it listens and where the replicas are change; every proxy directive is the file's.
    const local = shipped
      .replace(/(upstream oneroster_gateways \{)[^}]*?(keepalive)/s, `$1\n        server 127.0.0.1:${replicaPort};\n        $2`)
      .replace(/listen 80;/, `listen 127.0.0.1:${port};`)
      .replace(/http \{/, `http {\n    client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi; access_log ${dir}/access.log;`)
      .replace(/worker_processes auto;/, `worker_processes 1; daemon off; pid ${dir}/nginx.pid;`);
    expect(local).not.toBe(shipped);
    writeFileSync(join(dir, 'nginx.conf'), local);
    const nginx = spawn(bin!, ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
    try {
      const url = `http://127.0.0.1:${port}/ims/oneroster/v1p1/users`;
      for (let i = 0; !(await fetch(url).then(() => true, () => false)); i++) {
        if (i > 100 || nginx.exitCode !== null) throw new Error(`nginx did not start: ${readFileSync(join(dir, 'error.log'), 'utf8').slice(-500)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      seen.length = 0;
      expect((await fetch(url, { headers: { 'x-request-id': 'client-trace-42' } })).status).toBe(200);
      expect((await fetch(url)).status).toBe(200);
      expect(seen[0]).toMatchObject({ id: 'client-trace-42', host: `127.0.0.1:${port}`, xff: '127.0.0.1' });
      expect(seen[1]!.id).toMatch(/^[0-9a-f]{32}$/);
      // The metrics and the operators' API stay inside, however the path is spelled.
      seen.length = 0;
      const base = `http://127.0.0.1:${port}`;
      for (const path of ['/metrics', '//metrics', '/%6detrics', '/admin/cache/districts/d', '/%61dmin/districts/d/sync', '//admin/x', '/ims/../admin/x']) {
        const res = await fetch(`${base}${path}`, { method: path.includes('sync') ? 'POST' : 'GET' });
        expect(res.status, path).toBe(404);
        expect(res.headers.get('content-type')).toBe('application/json');
        expect(((await res.json()) as { statusInfoSet: Array<{ imsx_codeMajor: string }> }).statusInfoSet[0]!.imsx_codeMajor).toBe('failure');
      }
      expect(seen).toEqual([]);
    } finally {
      nginx.kill('SIGQUIT');
      await new Promise((r) => (nginx.exitCode !== null ? r(null) : nginx.once('exit', r)));
      await new Promise((r) => replica.close(r));
    }
  });
});
