import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hashSecretCommand } from '../../src/cli/hash-secret.js';
import { memoryIO } from './helpers.js';

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('hash-secret', () => {
  it('hashes its argument', async () => {
    const io = memoryIO();
    expect(await hashSecretCommand.run(['my client secret'], io)).toBe(0);
    expect(io.out()).toBe(`${sha('my client secret')}\n`);
  });

  it('reads the first line of stdin, without its line ending', async () => {
    for (const input of ['s3cret value\n', 's3cret value\r\nsecond line\n', 's3cret value']) {
      const io = memoryIO({ stdin: input });
      expect(await hashSecretCommand.run([], io)).toBe(0);
      expect(io.out()).toBe(`${sha('s3cret value')}\n`);
    }
  });

  it('keeps spaces: only the newline is trimmed', async () => {
    const io = memoryIO({ stdin: '  padded  \n' });
    expect(await hashSecretCommand.run([], io)).toBe(0);
    expect(io.out()).toBe(`${sha('  padded  ')}\n`);
  });

  it('refuses an empty secret', async () => {
    const io = memoryIO({ stdin: '\n' });
    expect(await hashSecretCommand.run([], io)).toBe(1);
    expect(io.err()).toContain('no secret given');
    expect(io.out()).toBe('');
  });

  it('reads stdin in the built program', () => {
    const r = spawnSync(process.execPath, ['dist/main.js', 'hash-secret'], { input: 'piped-secret\n', encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${sha('piped-secret')}\n`);
  });
});
