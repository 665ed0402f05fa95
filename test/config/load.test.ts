import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { issuesOf } from './issues.js';

const SECRET = 'x'.repeat(40);
const base = (extra = '') => `
auth:
  tokenSecret: ${SECRET}
  clients:
    - clientId: app
      clientSecret: app-secret-123456
      districts: [springfield]
      scopes: [roster.readonly]
districts:
  - id: springfield
    version: v1p1
    baseUrl: https://sis.example.org/ims/oneroster/
    auth: { type: oauth1, consumerKey: k, consumerSecret: s }
${extra}`;


describe('config loading', () => {
  it('applies defaults, trims the base URL and freezes the result', () => {
    const cfg = parseConfig(base(), {}, 't');
    expect(cfg.server.port).toBe(8080);
    expect(cfg.auth.tokenTtlSeconds).toBe(3600);
    expect(cfg.cache.deltaSync.intervalSeconds).toBe(300);
    expect(cfg.districts[0]!.baseUrl).toBe('https://sis.example.org/ims/oneroster');
    expect(cfg.districts[0]!.auth).toMatchObject({ signatureMethod: 'HMAC-SHA256' });
    expect(cfg.districts[0]!.upstream.maxConcurrency).toBe(4);
    expect(Object.isFrozen(cfg.districts[0])).toBe(true);
  });

  it('substitutes ${VAR} and ${VAR:-default} from the environment', () => {
    const text = base().replace('consumerKey: k', 'consumerKey: ${KEY}').replace('consumerSecret: s', 'consumerSecret: ${SEC:-fallback}');
    const cfg = parseConfig(text + 'server: { port: "${P:-9000}" }\n', { KEY: 'from-env' }, 't');
    expect(cfg.districts[0]!.auth).toMatchObject({ consumerKey: 'from-env', consumerSecret: 'fallback' });
    expect(cfg.server.port).toBe(9000);
  });

  it('names the field whose environment variable is missing', () => {
    const text = base().replace('consumerSecret: s', 'consumerSecret: ${SPRINGFIELD_SECRET}');
    expect(issuesOf(text)).toEqual(['districts[springfield].auth.consumerSecret: environment variable SPRINGFIELD_SECRET is not set']);
  });

  it('names the path of a missing required field', () => {
    const text = base(`  - id: shelbyville
    version: v1p2
    baseUrl: https://sis2.example.org/ims/oneroster
    auth: { type: oauth2, clientId: a, clientSecret: b }`);
    expect(issuesOf(text)).toContain('districts[shelbyville].auth.tokenUrl: required');
  });

  it('rejects unknown keys, bad enums and bad ids, each by path', () => {
    const text = base(`  - id: Bad_Id
    version: v3
    baseUrl: not a url
    colour: blue
    auth: { type: kerberos }`);
    const issues = issuesOf(text);
    expect(issues).toContain('districts[Bad_Id].colour: unknown key');
    expect(issues.some((i) => i.startsWith('districts[Bad_Id].id: must match [a-z0-9-]+'))).toBe(true);
    expect(issues.some((i) => i.startsWith('districts[Bad_Id].version:'))).toBe(true);
    expect(issues.some((i) => i.startsWith('districts[Bad_Id].baseUrl:'))).toBe(true);
    expect(issues.some((i) => i.startsWith('districts[Bad_Id].auth.type:'))).toBe(true);
  });

  it('checks cross references: client districts, duplicate ids, sandbox URLs', () => {
    const text = base(`  - id: springfield
    version: v1p1
    baseUrl: sandbox://nope/ims/oneroster
    auth: { type: bearer, token: t }`).replace('districts: [springfield]', 'districts: [springfield, ogdenville]');
    const issues = issuesOf(text);
    expect(issues).toContain('auth.clients[app].districts[1]: unknown district "ogdenville"');
    expect(issues).toContain('districts[springfield].id: duplicate district id "springfield" (first at test.yaml:10:9)');
    expect(issues).toContain('districts[springfield].baseUrl: no sandbox with id "nope"');
  });

  it('reads a classlink block with defaults, and lets clients name discovered districts by pattern', () => {
    const cfg = parseConfig(
      base(`classlink:
  token: \${CL_TOKEN}
  tenants:
    "1234": { name: Springfield USD, version: v1p2 }`).replace('districts: [springfield]', 'districts: [springfield, classlink-*, classlink-77]'),
      { CL_TOKEN: 'dev-token' },
      'test.yaml',
    );
    expect(cfg.classlink).toMatchObject({
      discoveryUrl: 'https://oneroster-proxy.classlink.io/applications',
      proxyBaseUrl: 'https://oneroster-proxy.classlink.io',
      version: 'v1p1',
      refreshSeconds: 300,
      token: 'dev-token',
    });
    expect(cfg.classlink!.tenants['1234']).toEqual({ name: 'Springfield USD', version: 'v1p2', enabled: true });
    // Without a classlink block, classlink-77 is just an unknown district; a bad pattern is refused either way.
    const issues = issuesOf(base().replace('districts: [springfield]', 'districts: [springfield, classlink-77, "spring*field"]'));
    expect(issues).toContain('auth.clients[app].districts[1]: unknown district "classlink-77"');
    expect(issues.some((i) => i.startsWith('auth.clients[app].districts[2]: a pattern is'))).toBe(true);
    const missing = issuesOf(base('classlink:\n  refreshSeconds: 1'));
    expect(missing).toContain('classlink.token: required');
    expect(missing.some((i) => i.startsWith('classlink.refreshSeconds'))).toBe(true);
  });

  it('requires exactly one of clientSecret and clientSecretSha256, and a long token secret', () => {
    const text = base()
      .replace('clientSecret: app-secret-123456', `clientSecret: app-secret-123456\n      clientSecretSha256: ${'a'.repeat(64)}`)
      .replace(SECRET, 'short');
    const issues = issuesOf(text);
    expect(issues).toContain('auth.clients[app].clientSecret: exactly one of clientSecret or clientSecretSha256 is required');
    expect(issues).toContain('auth.tokenSecret: must be at least 32 characters');
  });

  it('accepts 1EdTech scope URIs and rejects unknown scopes', () => {
    const ok = parseConfig(base().replace('[roster.readonly]', '[https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly]'), {}, 't');
    expect(ok.auth.clients[0]!.scopes).toEqual(['roster-core.readonly']);
    expect(issuesOf(base().replace('[roster.readonly]', '[roster.everything]'))[0]).toMatch(/^auth\.clients\[app\]\.scopes\[0\]: unknown scope/);
  });

  it('never prints secret values in its messages', () => {
    const secretValue = 'sup3r-s3cret-value';
    const text = base()
      .replace('consumerSecret: s', `consumerSecret: ${secretValue}\n    extra: ${secretValue}`)
      .replace(SECRET, secretValue);
    const issues = issuesOf(text);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.join('\n')).not.toContain(secretValue);
  });

  it('reports YAML syntax errors and non-mapping documents', () => {
    expect(issuesOf('auth: [unclosed')[0]).toMatch(/^YAML:/);
    expect(issuesOf('- a\n- b')).toEqual(['(root): must be a mapping']);
  });

  it('bounds inbound time and upstream bytes, and names what is out of range', () => {
    const cfg = parseConfig(base(), {}, 't');
    expect(cfg.server.limits).toMatchObject({ maxTokenBodyBytes: 8192, headersTimeoutMs: 5000, requestTimeoutMs: 10000, bodyIdleTimeoutMs: 5000 });
    expect(cfg.server.trustProxy).toBe(false);
    expect(cfg.auth.failedAuth).toEqual({ perClient: 10, perAddress: 30, windowSeconds: 60 });
    expect(cfg.districts[0]!.upstream.maxBodyBytes).toBe(32 * 1024 * 1024);
    expect(issuesOf(base('server: { limits: { headersTimeoutMs: 20000, requestTimeoutMs: 10000 } }'))).toEqual([
      'server.limits.headersTimeoutMs: must not exceed requestTimeoutMs (10000)',
    ]);
    const big = issuesOf(base().replace('auth: { type: oauth1', 'upstream: { maxBodyBytes: 1073741824 }\n    auth: { type: oauth1'));
    expect(big[0]).toMatch(/^districts\[springfield\]\.upstream\.maxBodyBytes: /);
    const small = issuesOf(base().replace('auth: { type: oauth1', 'upstream: { maxBodyBytes: 2048, maxInFlightBytes: 1024 }\n    auth: { type: oauth1'));
    expect(small).toEqual(['districts[springfield].upstream.maxInFlightBytes: must be at least maxBodyBytes (2048)']);
  });

  it('caps background upstream requests per replica (sync.maxBackgroundConcurrency), 8 by default, by path when out of range', () => {
    expect(parseConfig(base(), {}, 't').sync).toEqual({ maxBackgroundConcurrency: 8 });
    expect(parseConfig(base('sync: { maxBackgroundConcurrency: ${CAP} }'), { CAP: '2' }, 't').sync.maxBackgroundConcurrency).toBe(2);
    expect(issuesOf(base('sync: { maxBackgroundConcurrency: 0 }'))).toEqual([expect.stringMatching(/^sync\.maxBackgroundConcurrency: /)]);
    expect(issuesOf(base('sync: { maxBackgroundConcurrency: many }'))).toEqual([expect.stringMatching(/^sync\.maxBackgroundConcurrency: /)]);
    expect(issuesOf(base('sync: { maxBackground: 4 }'))[0]).toMatch(/^sync/);
  });

  it('lets PORT override server.port and rejects a bad PORT', () => {
    expect(parseConfig(base(), { PORT: '9191' }, 't').server.port).toBe(9191);
    expect(issuesOf(base(), { PORT: 'eighty' })).toEqual(['PORT: must be an integer 0-65535']);
  });

  it('loads the bundled gateway.example.yaml with no environment', () => {
    const cfg = parseConfig(readFileSync('gateway.example.yaml', 'utf8'), {}, 'gateway.example.yaml');
    expect(cfg.districts.map((d) => d.id)).toEqual(['demo']);
    expect(cfg.sandboxes[0]).toMatchObject({ id: 'demo', version: 'v1p1', users: 500 });
    expect(cfg.server.publicUrl).toBeUndefined();
  });
});

describe('the contract example', () => {
  it('parses config/multi-district.example.yaml, flow maps with ${VAR} included', () => {
    const env = {
      GATEWAY_TOKEN_SECRET: 'z'.repeat(32),
      REPORTING_APP_SECRET: 'reporting-secret',
      SYNC_JOB_SECRET_SHA256: 'ab'.repeat(32),
      SPRINGFIELD_KEY: 'sk',
      SPRINGFIELD_SECRET: 'ss, with: yaml {chars} # and more',
      SHELBYVILLE_ID: 'sid',
      SHELBYVILLE_SECRET: 'ssec',
      OGDENVILLE_TOKEN: 'otok',
    };
    const cfg = parseConfig(readFileSync('config/multi-district.example.yaml', 'utf8'), env, 'x');
    expect(cfg.districts.map((d) => [d.id, d.version, d.auth.type])).toEqual([
      ['springfield', 'v1p1', 'oauth1'],
      ['shelbyville', 'v1p2', 'oauth2'],
      ['ogdenville', 'v1p1', 'bearer'],
    ]);
    // A value with YAML syntax in it stays one string: substitution happens after parsing.
    expect(cfg.districts[0]!.auth).toMatchObject({ consumerSecret: env.SPRINGFIELD_SECRET });
    expect(cfg.server.publicUrl).toBe('http://localhost:8080');
    expect(cfg.districts[1]!.upstream).toMatchObject({ maxConcurrency: 2, timeoutMs: 120000, connectTimeoutMs: 5000 });
    // defaults: merged where a district says nothing; ogdenville's version came through a merge key.
    expect(cfg.districts[0]!.upstream).toMatchObject({ maxConcurrency: 3, timeoutMs: 90000, retry: { maxAttempts: 4 } });
    expect(cfg.districts[1]!.upstream.retry.maxAttempts).toBe(4);
  });

  it('parses config/classlink.example.yaml: a gateway with only a classlink block', () => {
    const env = { GATEWAY_TOKEN_SECRET: 'z'.repeat(32), LMS_SYNC_SECRET: 'lms-sync-secret-value', CLASSLINK_DEVELOPER_TOKEN: 'dev-token' };
    const cfg = parseConfig(readFileSync('config/classlink.example.yaml', 'utf8'), env, 'x');
    expect(cfg.districts).toEqual([]);
    expect(cfg.classlink).toMatchObject({ token: 'dev-token', version: 'auto', mode: 'proxy', refreshSeconds: 300 });
    expect(cfg.classlink!.tenants['5678']!.enabled).toBe(false);
    expect(cfg.auth.clients[0]!.districts).toEqual(['classlink-*']);
  });
});

describe('version: auto', () => {
  it('is accepted for a district, the classlink block and a tenant; other values are refused by path', () => {
    const cfg = parseConfig(base().replace('version: v1p1', 'version: auto'), {}, 'x');
    expect(cfg.districts[0]!.version).toBe('auto');
    const issues = issuesOf(base('classlink:\n  token: t\n  version: v2\n  tenants:\n    "9": { version: "1.2" }').replace('version: v1p1', 'version: detect'));
    expect(issues).toContain('districts[springfield].version: must be v1p1, v1p2 or auto');
    expect(issues).toContain('classlink.version: must be v1p1, v1p2 or auto');
    expect(issues).toContain('classlink.tenants.9.version: must be v1p1, v1p2 or auto');
  });
});
