// ${file:PATH}: secrets from files (Docker and Kubernetes secrets), beside ${VAR}.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, readConfigFile } from '../../src/config/load.js';
import { MAX_FILE_REF_BYTES } from '../../src/config/substitute.js';

// The loader's own fs calls, passed through, so a test can count the opens of one path.
const opened = vi.hoisted(() => [] as string[]);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const openSync = ((path: string, ...rest: unknown[]) => {
    opened.push(String(path));
    return (fs.openSync as (...a: unknown[]) => number)(path, ...rest);
  }) as typeof fs.openSync;
  return { ...fs, default: { ...fs, openSync }, openSync };
});

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

  it('reads each file once per load, however often an alias repeats its reference', () => {
    // 100 references in one anchor, aliased 200 times: 20,000 substitutions of one file.
    const { dir, load } = setup(
      () => `auth: { tokenSecret: ${'x'.repeat(40)} }
x-names: &n [${Array(100).fill('"\${file:name}"').join(', ')}]
x-copies: [${Array(200).fill('*n').join(', ')}]
x-more: "\${file:name} \${file:./name}"
districts:
  - { id: a, name: "\${file:name}", version: v1p1, baseUrl: https://a.example, auth: { type: bearer, token: t } }
`,
      { name: 'District A\n' },
    );
    opened.length = 0;
    expect(load().config.districts[0]!.name).toBe('District A');
    expect(opened.filter((f) => f === join(dir, 'name'))).toHaveLength(1);
  });

  it('refuses a document whose file substitutions pass the per-load cap, naming the field and not the content', () => {
    // 1,000 substitutions of 60 KiB: 60 MiB, past the cap after about 270 of them.
    const big = `${SECRET}${'z'.repeat(60 * 1024)}`;
    const { dir, load } = setup(
      () => `auth: { tokenSecret: ${'x'.repeat(40)} }
x-big: &b [${Array(100).fill('"\${file:big}"').join(', ')}]
x-copies: [${Array(10).fill('*b').join(', ')}]
`,
      { big },
    );
    opened.length = 0;
    const found = issues(load);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${join(dir, 'gateway.yaml')}:2:\\d+: x-copies\\[\\d+\\]\\[\\d+\\]: files substituted into the config pass ${MAX_FILE_REF_BYTES} bytes: refused$`));
    expect(found.join('\n')).not.toContain(SECRET);
    expect(opened.filter((f) => f === join(dir, 'big'))).toHaveLength(1);
  });
});
