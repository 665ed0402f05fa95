// districtsDir: one district per file, read in file-name order after `districts:`.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfigFile } from '../../src/config/load.js';

const HEAD = `auth: { tokenSecret: ${'x'.repeat(40)} }\n`;
const district = (id: string, extra = '') => `id: ${id}\nversion: v1p1\nbaseUrl: https://${id}.example/ims/oneroster\nauth: { type: bearer, token: t }\n${extra}`;

/** A config directory: gateway.yaml and the given files (paths relative to it). */
function configDir(main: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
  writeFileSync(join(dir, 'gateway.yaml'), main);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function issuesOf(dir: string): string[] {
  try {
    readConfigFile(join(dir, 'gateway.yaml'), {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('districtsDir', () => {
  it('appends one district per *.yaml / *.yml file in file-name order, with defaults applied, skipping other files', () => {
    const dir = configDir(`${HEAD}defaults: { upstream: { maxConcurrency: 2 } }\ndistrictsDir: districts.d\ndistricts:\n  - { id: main, version: v1p2, baseUrl: https://m.example, auth: { type: bearer, token: t } }\n`, {
      'districts.d/20-beta.yml': district('beta'),
      'districts.d/10-alpha.yaml': district('alpha', 'upstream: { maxConcurrency: 9 }\n'),
      'districts.d/30-gamma.yaml': district('gamma'),
      'districts.d/README.md': 'not a district',
      'districts.d/.40-swap.yaml': 'not: [valid',
      'districts.d/sub/50-nested.yaml': district('nested'),
    });
    const { config, districtFiles } = readConfigFile(join(dir, 'gateway.yaml'), {});
    expect(config.districts.map((d) => [d.id, d.upstream.maxConcurrency])).toEqual([
      ['main', 2],
      ['alpha', 9],
      ['beta', 2],
      ['gamma', 2],
    ]);
    expect(districtFiles).toEqual([join(dir, 'gateway.yaml'), ...['10-alpha.yaml', '20-beta.yml', '30-gamma.yaml'].map((f) => join(dir, 'districts.d', f))]);
  });

  it('follows symlinked files (a mounted Kubernetes ConfigMap) and needs no districts: list', () => {
    const dir = configDir(`${HEAD}districtsDir: ./d\n`, { 'data/alpha.yaml': district('alpha') });
    mkdirSync(join(dir, 'd'));
    symlinkSync(join(dir, 'data', 'alpha.yaml'), join(dir, 'd', 'alpha.yaml'));
    expect(readConfigFile(join(dir, 'gateway.yaml'), {}).config.districts.map((d) => d.id)).toEqual(['alpha']);
  });

  it('refuses a duplicate id naming both files', () => {
    const dir = configDir(`${HEAD}districtsDir: d\n`, { 'd/a.yaml': district('same'), 'd/b.yaml': district('same') });
    expect(issuesOf(dir)).toEqual([`${join(dir, 'd', 'b.yaml')}:1:5: districts[same].id: duplicate district id "same" (first at ${join(dir, 'd', 'a.yaml')}:1:5)`]);
  });

  it('names the file of a bad district, a YAML error and a file that is not one district', () => {
    const dir = configDir(`${HEAD}districtsDir: d\n`, {
      'd/a-good.yaml': district('good'),
      'd/b-bad.yaml': district('bad').replace('version: v1p1', 'version: v7'),
      'd/c-broken.yaml': 'id: broken\nversion: [v1p1\n',
      'd/d-list.yaml': `- ${district('listed').replace(/\n/g, '\n  ')}`,
    });
    const issues = issuesOf(dir);
    expect(issues).toContain(`${join(dir, 'd', 'b-bad.yaml')}:2:10: districts[bad].version: must be v1p1, v1p2 or auto`);
    expect(issues.some((i) => i.startsWith(`${join(dir, 'd', 'c-broken.yaml')}:3:1: YAML: `))).toBe(true);
    expect(issues).toContain(`${join(dir, 'd', 'd-list.yaml')}:1:1: districts[2]: d-list.yaml must hold one district (a mapping, as one entry of districts:)`);
    expect(issues.join('\n')).not.toContain('a-good.yaml');
  });

  it('refuses a missing directory and a file past the size bound, naming them', () => {
    const missing = configDir(`${HEAD}districtsDir: nowhere\n`, {});
    expect(issuesOf(missing)).toEqual([`${join(missing, 'gateway.yaml')}:2:15: districtsDir: cannot read directory ${join(missing, 'nowhere')} (ENOENT)`]);
    const big = configDir(`${HEAD}districtsDir: d\n`, { 'd/huge.yaml': `${district('huge')}# ${'x'.repeat(300 * 1024)}\n` });
    expect(issuesOf(big)).toEqual([`${join(big, 'd', 'huge.yaml')}: cannot read district file (larger than 262144 bytes)`]);
  });
});
