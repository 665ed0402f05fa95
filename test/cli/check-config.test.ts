import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigCommand } from '../../src/cli/check-config.js';
import { redactStoreUrl } from '../../src/cli/config-summary.js';
import { memoryIO, tempFile } from './helpers.js';

// Every secret a config can hold, each a distinct value so a leak names itself.
const SECRETS = {
  TOKEN_SECRET: 'tokensecret-AAAA-0123456789abcdefghijklmnop',
  CLIENT_SECRET: 'clientsecret-BBBB-0123',
  CONSUMER_SECRET: 'consumersecret-CCCC',
  OAUTH2_SECRET: 'oauth2secret-DDDD',
  BEARER: 'bearertoken-EEEE',
  CLASSLINK: 'classlinktoken-FFFF',
  ADMIN: 'admintoken-GGGG-0123456789abcdef',
  REDIS_PASSWORD: 'redispass-HHHH',
  SANDBOX_SECRET: 'sandboxsecret-IIII',
  SANDBOX_OAUTH2: 'sandboxoauth2-JJJJ',
  SANDBOX_BEARER: 'sandboxbearer-KKKK',
};

const FULL = `server: { port: 9090, host: 127.0.0.1, publicUrl: "https://gw.example.org" }
auth:
  tokenSecret: \${TOKEN_SECRET}
  clients:
    - clientId: reporting
      clientSecret: \${CLIENT_SECRET}
      districts: [springfield, shelbyville]
      scopes: [roster.readonly, "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.readonly"]
      rateLimit: { requestsPerSecond: 5, burst: 10 }
    - clientId: ops
      clientSecretSha256: "${'ab'.repeat(32)}"
      districts: ["*"]
      scopes: [roster-core.readonly]
admin: { token: \${ADMIN} }
cache:
  store: "redis://gw:\${REDIS_PASSWORD}@redis.internal:6380/2"
  deltaSync: { enabled: false }
classlink: { token: \${CLASSLINK}, mode: direct, version: auto, refreshSeconds: 600 }
metrics: { enabled: true, auth: admin }
sandboxes:
  - { id: box1, version: v1p1, auth: { type: oauth1, consumerKey: k, consumerSecret: \${SANDBOX_SECRET} } }
  - { id: box2, version: v1p2, auth: { type: oauth2, clientId: c, clientSecret: \${SANDBOX_OAUTH2} } }
  - { id: box3, version: v1p1, auth: { type: bearer, token: \${SANDBOX_BEARER} } }
districts:
  - id: springfield
    name: Springfield Public Schools
    version: v1p1
    baseUrl: "https://user:pw-in-url@sis.springfield.example/api/ims/oneroster?key=url-secret"
    auth: { type: oauth1, consumerKey: ck, consumerSecret: \${CONSUMER_SECRET} }
  - id: shelbyville
    version: v1p2
    baseUrl: https://sis.shelbyville.example:8443/ims/oneroster
    auth: { type: oauth2, tokenUrl: "https://sis.shelbyville.example/oauth/token", clientId: gw, clientSecret: \${OAUTH2_SECRET} }
  - id: ogdenville
    version: auto
    baseUrl: https://oneroster-proxy.classlink.io/app-1/ims/oneroster
    auth: { type: bearer, token: \${BEARER} }
`;

describe('check-config', () => {
  it('prints a summary of a valid config and never a secret value', async () => {
    const file = tempFile('gateway.yaml', FULL);
    const io = memoryIO({ env: SECRETS });
    expect(await checkConfigCommand.run([file], io)).toBe(0);
    const out = io.out();
    for (const [name, secret] of Object.entries(SECRETS)) expect(out, name).not.toContain(secret);
    for (const other of ['pw-in-url', 'url-secret', 'ab'.repeat(32)]) expect(out).not.toContain(other);
    expect(io.err()).toBe('');

    expect(out).toContain(`config: ${file} (valid)`);
    expect(out).toContain('server: host 127.0.0.1, port 9090, publicUrl https://gw.example.org');
    expect(out).toContain('cache: store redis://gw:***@redis.internal:6380/2');
    expect(out).toContain('delta sync: off');
    expect(out).toContain('background: at most 8 upstream requests at once (delta polls, mirror pulls)');
    expect(out).toMatch(/\n  springfield\s+v1p1\s+oauth1\s+sis\.springfield\.example\s+off\s+gateway\.yaml\s+Springfield Public Schools\n/);
    expect(out).toMatch(/\n  shelbyville\s+v1p2\s+oauth2\s+sis\.shelbyville\.example:8443\s+off\s+gateway\.yaml\n/);
    expect(out).toMatch(/\n  ogdenville\s+auto\s+bearer\s+oneroster-proxy\.classlink\.io\s+off\s+gateway\.yaml\n/);
    expect(out).toContain('\ntotal: 3 districts, 0 mirrored, 3 from gateway.yaml, 0 from districtsDir\n');
    expect(out).toContain('classlink: mode direct, version auto, refresh 600s');
    expect(out).toMatch(/reporting\s+springfield,shelbyville\s+roster\.readonly gradebook\.readonly\s+5\/s burst 10/);
    expect(out).toMatch(/ops\s+\*\s+roster-core\.readonly\s+none/);
    expect(out).toContain('metrics: on, auth admin');
    expect(out).toContain('admin: yes');
  });

  it('reads GATEWAY_CONFIG when no file is named', async () => {
    const file = tempFile('gateway.yaml', FULL);
    const io = memoryIO({ env: { ...SECRETS, GATEWAY_CONFIG: file } });
    expect(await checkConfigCommand.run([], io)).toBe(0);
    expect(io.out()).toContain(`config: ${file} (valid)`);
  });

  it('checks the bundled example without any environment', async () => {
    const io = memoryIO();
    expect(await checkConfigCommand.run([], io)).toBe(0);
    expect(io.out()).toMatch(/gateway\.example\.yaml \(valid\)/);
    expect(io.out()).toContain('admin: yes (token generated at start: GATEWAY_ADMIN_TOKEN unset)');
    expect(io.out()).not.toContain('demo-app-secret');
    expect(io.out()).not.toContain('demo-consumer-secret');
    expect(io.out()).not.toContain('demo-only-token-secret');
  });

  it('exits 1 on an invalid file, one "path: message" per line on stderr, no values', async () => {
    const file = tempFile(
      'bad.yaml',
      `auth: { tokenSecret: short-secret-value }
districts:
  - { id: Bad_Id, version: v9, baseUrl: https://x.example/ims/oneroster, auth: { type: oauth2, clientId: a, clientSecret: leaky-secret-value } }
`,
    );
    const io = memoryIO();
    expect(await checkConfigCommand.run([file], io)).toBe(1);
    expect(io.out()).toBe('');
    const lines = io.err().trim().split('\n');
    expect(lines[0]).toMatch(/bad\.yaml: invalid configuration \(\d+ problems\)$/);
    expect(lines).toContain(`${file}:1:22: auth.tokenSecret: must be at least 32 characters`);
    // Each problem at file:line:column (the id's value, the auth mapping that lacks tokenUrl), the district by its id.
    expect(lines).toContain(`${file}:3:11: districts[Bad_Id].id: must match [a-z0-9-]+`);
    expect(lines).toContain(`${file}:3:80: districts[Bad_Id].auth.tokenUrl: required`);
    expect(io.err()).not.toContain('leaky-secret-value');
    expect(io.err()).not.toContain('short-secret-value');
  });

  it('exits 1 on a missing file and 2 on an extra argument', async () => {
    const missing = memoryIO();
    expect(await checkConfigCommand.run(['/nonexistent/gateway.yaml'], missing)).toBe(1);
    expect(missing.err()).toContain('cannot read config file (ENOENT)');
    const extra = memoryIO();
    expect(await checkConfigCommand.run(['a.yaml', 'b.yaml'], extra)).toBe(2);
    expect(extra.err()).toContain('unexpected argument: b.yaml');
    expect(extra.err()).toContain('usage: oneroster-gateway check-config');
  });

  it('takes --config FILE like every other command, and refuses a file named twice', async () => {
    const file = tempFile('gateway.yaml', FULL);
    const io = memoryIO({ env: SECRETS });
    expect(await checkConfigCommand.run(['--config', file], io)).toBe(0);
    expect(io.out()).toContain(`config: ${file} (valid)`);
    const twice = memoryIO({ env: SECRETS });
    expect(await checkConfigCommand.run(['--config', file, file], twice)).toBe(2);
    expect(twice.err()).toContain('give the file once: --config FILE or FILE');
  });

  it('prints one line per district with the file it came from (main file or districtsDir), then a total; no secret', async () => {
    const file = tempFile('gateway.yaml', `auth: { tokenSecret: \${TOKEN_SECRET} }
defaults: { mirror: { fullRefreshSeconds: 3600 } }
districtsDir: districts.d
districts:
  - { id: main-one, version: v1p2, baseUrl: "https://u:pw-in-url@sis.main.example:8443/ims?key=url-secret", auth: { type: bearer, token: \${BEARER} } }
`);
    const dir = join(dirname(file), 'districts.d');
    mkdirSync(dir);
    writeFileSync(join(dir, 'secret'), 'file-secret-LLLL\n');
    writeFileSync(join(dir, 'b.yaml'), 'id: from-b\nversion: v1p1\nbaseUrl: https://b.example/ims/oneroster\nauth: { type: oauth1, consumerKey: k, consumerSecret: "${file:secret}" }\nmirror: true\n');
    writeFileSync(join(dir, 'a.yml'), 'id: from-a\nversion: auto\nbaseUrl: https://a.example/ims/oneroster\nauth: { type: oauth2, tokenUrl: https://a.example/token, clientId: c, clientSecret: "${file:secret}" }\n');
    const io = memoryIO({ env: SECRETS });
    expect(await checkConfigCommand.run(['--config', file], io)).toBe(0);
    const out = io.out();
    const rows = out.split('\n').filter((l) => /^  (id|main-one|from-)/.test(l));
    expect(rows.map((r) => r.trim().split(/\s+/))).toEqual([
      ['id', 'version', 'auth', 'host', 'mirror', 'from', 'name'],
      ['main-one', 'v1p2', 'bearer', 'sis.main.example:8443', 'off', 'gateway.yaml'],
      ['from-a', 'auto', 'oauth2', 'a.example', 'off', 'districts.d/a.yml'],
      ['from-b', 'v1p1', 'oauth1', 'b.example', 'on', 'districts.d/b.yaml'],
    ]);
    expect(out).toContain('\ntotal: 3 districts, 1 mirrored, 1 from gateway.yaml, 2 from districtsDir\n');
    for (const secret of [...Object.values(SECRETS), 'file-secret-LLLL', 'pw-in-url', 'url-secret']) expect(out + io.err()).not.toContain(secret);
  });

  it('masks a Redis password and query values, and keeps memory as is', () => {
    expect(redactStoreUrl('memory')).toBe('memory');
    expect(redactStoreUrl('redis://:s3cret@h:6379')).toBe('redis://:***@h:6379');
    expect(redactStoreUrl('rediss://u:p@h/0?password=x&db=1')).toBe('rediss://u:***@h/0?password=***&db=***');
    expect(redactStoreUrl('redis://h:6379')).toBe('redis://h:6379');
  });
});

describe('check-config, the built program', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['dist/main.js', ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });

  it('prints the summary and exits 0, with no secret on either stream', () => {
    const file = tempFile('gateway.yaml', FULL);
    const r = run(['check-config', file], SECRETS);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('admin: yes');
    for (const secret of Object.values(SECRETS)) expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it('exits 1 naming the field', () => {
    const file = tempFile('gateway.yaml', FULL);
    const r = run(['check-config', '--config', file], { ...SECRETS, BEARER: '' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${file}:37:34: districts[ogdenville].auth.token: environment variable BEARER is not set`);
  });
});
