import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import type { Stack } from '../helpers/stack.js';

export interface MemoryIO extends CliIO {
  out(): string;
  err(): string;
}

/** In-memory stdout/stderr, an explicit environment (nothing inherited), optional stdin text. */
export function memoryIO(opts: { env?: Record<string, string>; stdin?: string; tty?: boolean; cwd?: string } = {}): MemoryIO {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s), ...(opts.tty ? { isTTY: true } : {}) },
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
    ...(opts.stdin !== undefined ? { stdin: Readable.from([Buffer.from(opts.stdin)]) } : {}),
    out: () => out,
    err: () => err,
  };
}

export function tempFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gw-cli-')), name);
  writeFileSync(file, text);
  return file;
}

/**
 * The running stack's config as a file an operator would have (JSON is YAML), with the
 * port the gateway actually listens on, so commands find it without --url.
 */
export function stackConfigFile(stack: Stack): string {
  const config = { ...stack.config, server: { ...stack.config.server, port: stack.gateway.port } };
  return tempFile('gateway.json', JSON.stringify(config));
}

export interface WarmRow {
  collection: string;
  result: string;
  pages: number;
  records: number;
  seconds: number;
  upstream: number;
  note: string;
}

/** The rows of warm's summary table (the last one is `total`). */
export function warmRows(stdout: string): WarmRow[] {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  expect(lines[0]).toMatch(/^collection\s+result\s+pages\s+records\s+seconds\s+upstream\s+note$/);
  return lines.slice(1).map((line) => {
    const m = /^(\S+)\s+(warmed|skipped|failed)?\s*(\d+)\s+(\d+)\s+(\d+\.\d\d)\s+(\d+)\s*(.*)$/.exec(line);
    if (!m) throw new Error(`not a warm row: ${line}`);
    return { collection: m[1]!, result: m[2] ?? '', pages: +m[3]!, records: +m[4]!, seconds: +m[5]!, upstream: +m[6]!, note: m[7]! };
  });
}
