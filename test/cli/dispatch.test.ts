import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, runCli } from '../../src/cli/index.js';
import { packageVersion } from '../../src/observability/build-version.js';
import { memoryIO } from './helpers.js';

describe('the command line', () => {
  it('prints usage for every command with --help, -h and help', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const io = memoryIO();
      expect(await runCli(argv, io)).toBe(0);
      for (const c of COMMANDS) expect(io.out()).toContain(`  ${c.name} `);
      expect(io.err()).toBe('');
    }
  });

  it('prints one command\'s usage with help COMMAND and COMMAND --help', async () => {
    for (const argv of [['help', 'warm'], ['warm', '--help'], ['warm', '-h']]) {
      const io = memoryIO();
      expect(await runCli(argv, io)).toBe(0);
      expect(io.out()).toContain('usage: oneroster-gateway warm DISTRICT');
      expect(io.out()).toContain('--page-size');
    }
  });

  it('prints the package version with --version or -v, and says so in the usage', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-v']) {
      const io = memoryIO();
      expect(await runCli([flag], io)).toBe(0);
      expect(io.out()).toBe(`${version}\n`);
      expect(io.err()).toBe('');
    }
    const help = memoryIO();
    await runCli(['--help'], help);
    expect(help.out()).toContain('--version (or -v)');
  });

  it('reads "unknown" as the version of a package.json it cannot read', () => {
    expect(packageVersion('/nonexistent/package.json')).toBe('unknown');
  });

  it('exits 2 with usage on stderr for an unknown command', async () => {
    const io = memoryIO();
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(io.err()).toContain('unknown command "frobnicate"');
    expect(io.err()).toContain('usage: oneroster-gateway');
    expect(io.out()).toBe('');
    const help = memoryIO();
    expect(await runCli(['help', 'frobnicate'], help)).toBe(2);
  });

  it('exits 2 with the command\'s usage for an unknown option, a missing value or a missing argument', async () => {
    const cases: Array<[string[], string]> = [
      [['token', '--client', 'a', '--bogus'], 'unknown option --bogus'],
      [['token', '--client'], '--client needs a value'],
      [['token'], '--client is required'],
      [['token', '--json=yes', '--client', 'a'], '--json takes no value'],
      [['purge'], 'missing DISTRICT'],
      [['sync', 'a', 'b'], 'unexpected argument: b'],
      [['warm', 'demo', '--client', 'a', '--page-size', '0'], '--page-size must be an integer from 1 to 10000'],
      [['warm', 'demo', 'pupils', '--client', 'a'], 'unknown collection "pupils"'],
      [['--bogus'], 'unknown option --bogus'],
      [['serve', 'extra'], 'unexpected argument: extra'],
    ];
    for (const [argv, message] of cases) {
      const io = memoryIO();
      expect(await runCli(argv, io), argv.join(' ')).toBe(2);
      expect(io.err(), argv.join(' ')).toContain(message);
      expect(io.err(), argv.join(' ')).toContain('usage: oneroster-gateway');
    }
  });
});

describe('the built program', () => {
  it('exits 2 with usage on stderr for an unknown command, 0 with usage on stdout for --help', async () => {
    const { spawnSync } = await import('node:child_process');
    const bad = spawnSync(process.execPath, ['dist/main.js', 'frobnicate'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('usage: oneroster-gateway');
    const help = spawnSync(process.execPath, ['dist/main.js', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('check-config');
  });
});
