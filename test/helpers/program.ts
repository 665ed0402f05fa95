import { spawn, type ChildProcess } from 'node:child_process';

// The built program as an operator runs it (`node dist/main.js`; npm test builds dist first),
// with only the environment given (PATH aside), its output collected.
export interface Program {
  child: ChildProcess;
  exited: Promise<number | null>;
  out(): string;
  err(): string;
}

const children: ChildProcess[] = [];

/** Kills what a test left running; for afterEach. */
export function killPrograms(): void {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export function runProgram(args: string[], env: Record<string, string> = {}): Program {
  const child = spawn(process.execPath, ['dist/main.js', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

export async function waitFor<T>(fn: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The gateway's URL once its "listening" line is out. */
export async function listeningUrl(p: Pick<Program, 'out'>): Promise<string> {
  const port = await waitFor(() => {
    const line = p.out().split('\n').find((l) => l.includes('"msg":"listening"'));
    return line ? (JSON.parse(line) as { port: number }).port : undefined;
  });
  return `http://127.0.0.1:${port}`;
}
