// Child processes for benchmarks: sandboxes and gateways each get their own event loop,
// and the load generator keeps the parent's.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

const children = [];

// With BENCH_SERVER_CPU set (e.g. 1) and taskset available, servers run on that core and
// the load generator keeps the others: on a 2-core machine this stops the two from
// fighting over one core and makes runs comparable. Sandboxes are not pinned.
const pinCpu = process.env.BENCH_SERVER_CPU;
function spawnServer(args, options) {
  const child = pinCpu ? spawn('taskset', ['-c', pinCpu, process.execPath, ...args], options) : spawn(process.execPath, args, options);
  // Resolves when the process has exited (after stop(): a --cpu-prof profile is then written).
  child.exited = new Promise((resolve) => child.once('exit', resolve));
  return child;
}
// Processes that are not our direct children but must not outlive the bench (nginx workers).
const orphans = new Set();
process.on('exit', () => {
  children.forEach((c) => c.kill('SIGKILL'));
  for (const pid of orphans) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * With BENCH_SERVER_CPU set, moves this process with all its threads (the load generator), and
 * every child it starts afterwards unless pinned elsewhere, to the other cores, as
 * `taskset -c 0 node ...` does on a 2-core machine. Returns the core list, or undefined.
 */
export function pinLoadGenerator() {
  if (!pinCpu) return undefined;
  const server = new Set(pinCpu.split(',').map(Number));
  const others = Array.from({ length: availableParallelism() }, (_, i) => i).filter((i) => !server.has(i));
  if (others.length === 0) return undefined;
  const r = spawnSync('taskset', ['-apc', others.join(','), String(process.pid)], { stdio: 'ignore' });
  return r.status === 0 ? others.join(',') : undefined;
}

/** CPU time (ms) of this process's children that have exited and been reaped (wrk, once it is done). */
export function reapedChildrenCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // cutime and cstime are fields 16 and 17 of stat.
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * Linux PSI: total µs some runnable task waited for a CPU (/proc/pressure/cpu), NaN elsewhere.
 * Over a run, (after - before) / wall µs is the share of time the machine was oversubscribed:
 * near 0 when the bench has its cores to itself, high when other work competes.
 */
export function cpuPressureUs() {
  try {
    return Number(/^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'))[1]);
  } catch {
    return Number.NaN;
  }
}

/** Pids whose parent is `pid` (from /proc). */
export function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    const found = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(name));
      } catch {
        // gone meanwhile
      }
    }
    return found;
  }
}

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

/** CPU time (ms) a process has used so far, split into user and system (kernel) time; NaNs elsewhere. */
export function cpuSplitMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) * 10, sys: Number(fields[12]) * 10 };
  } catch {
    return { user: Number.NaN, sys: Number.NaN };
  }
}

/** The client every bench gateway config registers; benchToken() signs in as it. */
const BENCH_SECRET = 'bench-secret-x';
export const BENCH_CLIENT = Object.freeze({ clientId: 'bench', clientSecret: BENCH_SECRET, districts: ['*'], scopes: ['roster-core.readonly'] });

/**
 * A gateway in front of sandbox district `d` (bearer `bench-token`), caching for an hour, no
 * delta sync. Every replica gets the same public URL, as behind one load balancer, so they
 * build the same links and share entries. `store`: 'memory' or a Redis URL.
 */
export function benchGatewayConfig(sandbox, store = 'memory') {
  return {
    server: { publicUrl: 'https://gateway.example.org' },
    auth: { tokenSecret: 'b'.repeat(40), clients: [BENCH_CLIENT] },
    cache: { store, ttlSeconds: 3600, deltaSync: { enabled: false } },
    metrics: { enabled: process.env.BENCH_METRICS !== '0' },
    districts: [{ id: 'd', version: 'v1p1', baseUrl: sandbox.baseUrl, auth: { type: 'bearer', token: 'bench-token' }, upstream: { maxConcurrency: 16 } }],
  };
}

/** An access token for client `bench` from a gateway. */
export async function benchToken(url) {
  const res = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&client_id=bench&client_secret=${BENCH_SECRET}`,
  });
  return (await res.json()).access_token;
}

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A redis-server on a free port, nothing persisted; resolves when it accepts connections. */
export async function redisProcess() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  children.push(child);
  await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    const poll = (left) => {
      const s = createConnection(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve()));
      s.once('error', () => (left > 0 ? setTimeout(() => poll(left - 1), 50) : reject(new Error('redis-server did not start'))));
    };
    poll(100);
  });
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid, stop: () => child.kill('SIGTERM') };
}

export async function sandboxProcess(options) {
  const child = spawn(process.execPath, ['bench/sandbox-server.mjs', JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  children.push(child);
  const url = await firstLine(child, (l) => (l.startsWith('http://') ? l.trim() : undefined));
  const ask = (cmd, extra = {}) =>
    new Promise((resolve) => {
      child.once('message', (m) => resolve(m.hits));
      child.send({ cmd, ...extra });
    });
  return {
    url,
    pid: child.pid,
    baseUrl: `${url}/ims/oneroster`,
    hits: () => ask('hits'),
    resetHits: () => ask('reset'),
    /** Changes users at the district: { quiet, update, remove, create } (counts; quiet updates keep dateLastModified). */
    mutate: (what) => ask('mutate', what),
    stop: () => child.kill('SIGTERM'),
  };
}

/** A bare hono server answering `body` with `headers`; resolves with its URL. `nodeArgs`: e.g. --cpu-prof. */
export async function bareServer(bodyFile, headers, nodeArgs = [], script = 'bench/bare-server.mjs') {
  const port = await freePort();
  const child = spawnServer([...nodeArgs, script, String(port), bodyFile, JSON.stringify(headers)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await firstLine(child, (l) => (l.trim() === 'ready' ? true : undefined));
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, cpuMs: () => cpuMs(child.pid), cpuSplitMs: () => cpuSplitMs(child.pid), stop: () => child.kill('SIGTERM'), exited: child.exited };
}

/**
 * Starts `node dist/main.js` on a config object; resolves when /readyz answers 200.
 * `nodeArgs`: e.g. --cpu-prof; `entry`: another build's main.js (an experiment's patched copy).
 */
export async function gatewayProcess(config, env = {}, nodeArgs = [], entry = 'dist/main.js') {
  const file = join(mkdtempSync(join(tmpdir(), 'gw-bench-')), 'gateway.yaml');
  writeFileSync(file, JSON.stringify(config)); // JSON is YAML
  const port = await freePort();
  // As an operator runs it: the default log level, stdout a pipe that a log collector drains
  // (Docker's json-file driver reads it the same way). No env tweaks unless a bench asks.
  const child = spawnServer([...nodeArgs, entry, '--config', file], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PORT: String(port), ...env },
  });
  let logBytes = 0;
  child.stdout.on('data', (d) => (logBytes += d.length));
  child.logBytes = () => logBytes;
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) return { url, pid: child.pid, cpuMs: () => cpuMs(child.pid), cpuSplitMs: () => cpuSplitMs(child.pid), stop: () => child.kill('SIGTERM'), exited: child.exited };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('gateway did not become ready');
}

/**
 * nginx (1.22, Debian's /usr/sbin/nginx) in the foreground, everything it writes under a temp
 * dir (config, error log, pid file, temp paths, cache), so it runs without root's paths.
 *   upstreams: origins (http://host:port) it proxies to, round-robin, HTTP/1.1 keep-alive.
 *   cache: true for proxy_cache: every 200 kept a day, key = scheme + upstream + URI,
 *     upstream Cache-Control/Expires/Set-Cookie ignored; X-Cache-Status: $upstream_cache_status.
 *   logMisses: with cache, every request not served as a HIT is logged (missCount(), clearMissLog()).
 *   pin: core list for taskset (default BENCH_SERVER_CPU); workers: worker_processes.
 * Resolves once it answers HTTP, with its master's pid and its workers' pids (from /proc).
 * No gzip, no access log (the gateway in the benches logs at warn).
 */
export async function nginxProcess({ upstreams, cache = false, logMisses = false, workers = 1, keepalive = 64, pin = pinCpu, sendfile = true, nginx = process.env.NGINX ?? '/usr/sbin/nginx' }) {
  if (!existsSync(nginx)) throw new Error(`nginx not found at ${nginx} (Debian: apt-get install -y nginx; or set NGINX)`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'cache']) mkdirSync(join(dir, d));
  const port = await freePort();
  const conf = `# written by bench/processes.mjs
${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes ${workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  server_tokens off;
  sendfile ${sendfile ? 'on' : 'off'};
  tcp_nopush on;
  tcp_nodelay on;
  gzip off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  ${cache ? `proxy_cache_path ${dir}/cache levels=1:2 keys_zone=pages:10m max_size=1g inactive=1d use_temp_path=off;` : ''}
  upstream backends {
${upstreams.map((u) => `    server ${new URL(u).host};`).join('\n')}
    keepalive ${keepalive};
  }
  ${cache && logMisses ? `map $upstream_cache_status $bench_not_hit { HIT 0; default 1; }
  log_format bench_miss '$upstream_cache_status $request_uri';` : ''}
  server {
    listen 127.0.0.1:${port} reuseport;
    ${cache && logMisses ? `access_log ${dir}/miss.log bench_miss if=$bench_not_hit;` : ''}
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_read_timeout 120s;
      proxy_buffers 16 16k;
      proxy_buffer_size 16k;
${
  cache
    ? `      proxy_cache pages;
      proxy_cache_key $scheme$proxy_host$request_uri;
      proxy_cache_valid 200 1d;
      proxy_ignore_headers Cache-Control Expires Set-Cookie X-Accel-Expires Vary;
      proxy_cache_lock on;
      add_header X-Cache-Status $upstream_cache_status always;`
    : ''
}
    }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const args = ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')];
  // taskset execs nginx: child.pid is the master's.
  const child = pin ? spawn('taskset', ['-c', pin, nginx, ...args], { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn(nginx, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let exited;
  child.once('exit', (code) => (exited = code ?? 'signal'));
  child.once('error', (err) => (exited = err.message));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (exited !== undefined) {
      let log = '';
      try {
        log = readFileSync(join(dir, 'error.log'), 'utf8');
      } catch {}
      throw new Error(`nginx exited (${exited}): ${stderr}${log}`);
    }
    const up = await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) }).then((r) => (r.body?.cancel(), true), () => false);
    if (up) break;
    if (i > 200) throw new Error(`nginx did not answer on ${url}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  children.push(child);
  const workerPids = () => childPids(child.pid);
  const started = workerPids();
  for (const w of started) orphans.add(w);
  return {
    url,
    pid: child.pid,
    dir,
    workerPids,
    /** Requests not answered from the cache since the last clearMissLog() (logMisses). */
    missCount: () => {
      try {
        return readFileSync(join(dir, 'miss.log'), 'utf8').split('\n').filter(Boolean).length;
      } catch {
        return 0;
      }
    },
    clearMissLog: () => writeFileSync(join(dir, 'miss.log'), ''),
    /** CPU (ms) of the master and its workers. */
    cpuMs: () => [child.pid, ...workerPids()].reduce((sum, p) => sum + cpuMs(p), 0),
    /** The same, split into user and system time. */
    cpuSplitMs: () =>
      [child.pid, ...workerPids()].map(cpuSplitMs).reduce((a, b) => ({ user: a.user + b.user, sys: a.sys + b.sys }), { user: 0, sys: 0 }),
    stop: () =>
      new Promise((resolve) => {
        const done = () => {
          // The master has reaped its workers; their pids may be reused from now on.
          for (const w of started) orphans.delete(w);
          resolve();
        };
        if (exited !== undefined) return done();
        child.once('exit', done);
        child.kill('SIGTERM'); // fast shutdown: the master stops its workers, then exits
      }),
  };
}
