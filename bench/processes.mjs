// Child processes for benchmarks: sandboxes and gateways each get their own event loop,
// and the load generator keeps the parent's.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const children = [];

// With BENCH_SERVER_CPU set (e.g. 1) and taskset available, servers run on that core and
// the load generator keeps the others: on a 2-core machine this stops the two from
// fighting over one core and makes runs comparable. Sandboxes are not pinned.
const pinCpu = process.env.BENCH_SERVER_CPU;
function spawnServer(args, options) {
  return pinCpu ? spawn('taskset', ['-c', pinCpu, process.execPath, ...args], options) : spawn(process.execPath, args, options);
}
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

function firstLine(child, test) {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const hit = buf.split('\n').map(test).find(Boolean);
      if (hit) resolve(hit);
    });
    child.on('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); NaN elsewhere. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function sandboxProcess(options) {
  const child = spawn(process.execPath, ['bench/sandbox-server.mjs', JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  children.push(child);
  const url = await firstLine(child, (l) => (l.startsWith('http://') ? l.trim() : undefined));
  const ask = (cmd) =>
    new Promise((resolve) => {
      child.once('message', (m) => resolve(m.hits));
      child.send({ cmd });
    });
  return { url, pid: child.pid, baseUrl: `${url}/ims/oneroster`, hits: () => ask('hits'), resetHits: () => ask('reset'), stop: () => child.kill('SIGTERM') };
}

/** A bare hono server answering `body` with `headers`; resolves with its URL. */
export async function bareServer(bodyFile, headers) {
  const port = await freePort();
  const child = spawnServer(['bench/bare-server.mjs', String(port), bodyFile, JSON.stringify(headers)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await firstLine(child, (l) => (l.trim() === 'ready' ? true : undefined));
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, cpuMs: () => cpuMs(child.pid), stop: () => child.kill('SIGTERM') };
}

/** Starts `node dist/main.js` on a config object; resolves when /readyz answers 200. */
export async function gatewayProcess(config, env = {}) {
  const file = join(mkdtempSync(join(tmpdir(), 'gw-bench-')), 'gateway.yaml');
  writeFileSync(file, JSON.stringify(config)); // JSON is YAML
  const port = await freePort();
  const child = spawnServer(['dist/main.js', '--config', file], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn', PORT: String(port), ...env },
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) return { url, pid: child.pid, cpuMs: () => cpuMs(child.pid), stop: () => child.kill('SIGTERM') };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('gateway did not become ready');
}
