// One gateway replica as an operator runs it: `node dist/main.js --config <file>` in its own
// process, so it can be killed like a crashed container.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface Replica {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  /** Everything the process wrote (its JSON log lines), across restarts. */
  output(): string;
  /** SIGKILL: no drain, no goodbye, connections drop mid-answer. */
  kill(): Promise<void>;
  /** Starts the process again on the same port and config; resolves when /readyz says 200. */
  start(): Promise<void>;
  /** SIGTERM and wait: the graceful path. */
  stop(): Promise<void>;
}

export async function startReplica(name: string, port: number, config: object): Promise<Replica> {
  const file = join(mkdtempSync(join(tmpdir(), `orgw-${name}-`)), 'gateway.yaml');
  writeFileSync(file, JSON.stringify(config, null, 2)); // JSON is YAML
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let out = '';

  async function start(): Promise<void> {
    const c = spawn(process.execPath, ['dist/main.js', '--config', file], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    live.add(c);
    c.once('exit', () => live.delete(c));
    c.stdout!.on('data', (d) => (out += d));
    c.stderr!.on('data', (d) => (out += d));
    for (let i = 0; ; i++) {
      if (c.exitCode !== null) throw new Error(`${name} exited with ${c.exitCode}: ${out.slice(-800)}`);
      if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) return;
      if (i > 300) throw new Error(`${name} did not become ready: ${out.slice(-800)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function signal(sig: NodeJS.Signals, waitMs: number): Promise<void> {
    const c = child;
    // Killed by a signal, a process has a signalCode and no exitCode.
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill(sig);
    await Promise.race([exited, new Promise((r) => setTimeout(r, waitMs))]);
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await exited;
  }

  await start();
  return { name, port, url, output: () => out, kill: () => signal('SIGKILL', 5000), start, stop: () => signal('SIGTERM', 5000) };
}
