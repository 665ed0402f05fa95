// ${file:PATH}: secrets from files (Docker and Kubernetes secrets), beside ${VAR}.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfigFile } from '../../src/config/load.js';

const SECRET = 'file-secret-0123456789-abcdefghijklmnop';

function setup(main: (dir: string) => string, files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gw-file-ref-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  writeFileSync(join(dir, 'gateway.yaml'), main(dir));
  return { dir, load: () => readConfigFile(join(dir, 'gateway.yaml'), {}) };
}

function issues(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('${file:PATH}', () => {
  it('reads the file (absolute or relative to the config file), trimming one trailing newline', () => {
    const { load } = setup(
      (dir) => `auth:
  tokenSecret: \${file:${join(dir, 'secrets', 'token')}}
  clients:
    - { clientId: app, clientSecret: "\${file:secrets/app}", districts: [a], scopes: [roster.readonly] }
districts:
  - { id: a, name: "\${file:secrets/two-lines}", version: v1p1, baseUrl: https://a.example, auth: { type: oauth1, consumerKey: "k-\${file:./secrets/key}", consumerSecret: s } }
`,
      { 'secrets/token': `${SECRET}\n`, 'secrets/app': 'app-secret-value\r\n', 'secrets/key': 'key', 'secrets/two-lines': 'line one\nline two\n\n' },
    );
    const { config } = load();
    expect(config.auth.tokenSecret).toBe(SECRET);
    expect(config.auth.clients[0]).toMatchObject({ clientSecret: 'app-secret-value' });
    // Only one newline goes; a reference inside a longer value is substituted in place.
    expect(config.districts[0]!.auth).toMatchObject({ consumerKey: 'k-key' });
    expect(config.districts[0]!.name).toBe('line one\nline two\n');
  });

  it('refuses a missing file naming the field and the path, and never a file’s content', () => {
    const { dir, load } = setup(
      () => `auth: { tokenSecret: "\${file:secrets/missing}" }
districts:
  - { id: a, version: v1p1, baseUrl: https://a.example, auth: { type: bearer, token: "\${file:secrets/short}" }, upstream: { timeoutMs: "\${file:secrets/not-a-number}" } }
`,
      { 'secrets/short': '   \n', 'secrets/not-a-number': `${SECRET}\n` },
    );
    const found = issues(load);
    expect(found).toContain(`${join(dir, 'gateway.yaml')}:1:22: auth.tokenSecret: cannot read file ${join(dir, 'secrets', 'missing')} (ENOENT)`);
    const col = readFileSync(join(dir, 'gateway.yaml'), 'utf8').split('\n')[2]!.indexOf('"${file:secrets/short}"') + 1;
    expect(found).toContain(`${join(dir, 'gateway.yaml')}:3:${col}: districts[a].auth.token: required`);
    expect(found.some((i) => i.includes('districts[a].upstream.timeoutMs: '))).toBe(true);
    expect(found.join('\n')).not.toContain(SECRET);
  });

  it('refuses a file past 64 KiB and a directory, without reading them into the message', () => {
    const { dir, load } = setup(() => `auth: { tokenSecret: "\${file:big}", tokenTtlSeconds: "\${file:secrets}" }\n`, { big: `${SECRET}${'y'.repeat(64 * 1024)}`, 'secrets/x': '1' });
    const found = issues(load);
    expect(found).toEqual([
      `${join(dir, 'gateway.yaml')}:1:22: auth.tokenSecret: cannot read file ${join(dir, 'big')} (larger than 65536 bytes)`,
      `${join(dir, 'gateway.yaml')}:1:54: auth.tokenTtlSeconds: cannot read file ${join(dir, 'secrets')} (a directory)`,
    ]);
    expect(found.join('\n')).not.toContain(SECRET);
  });

  it('works in districtsDir files, relative to the file that holds the reference', () => {
    const { load } = setup(() => `auth: { tokenSecret: ${'x'.repeat(40)} }\ndistrictsDir: districts.d\n`, {
      'districts.d/a.yaml': 'id: a\nversion: v1p1\nbaseUrl: https://a.example\nauth: { type: bearer, token: "${file:a.token}" }\n',
      'districts.d/a.token': 'district-a-token\n',
    });
    expect(load().config.districts[0]!.auth).toEqual({ type: 'bearer', token: 'district-a-token' });
  });
});
