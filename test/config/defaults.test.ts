// `defaults:` merged into every district before validation; the district's own values win.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { issuesOf, placedIssuesOf } from './issues.js';

const district = (id: string, extra = '') => `  - id: ${id}
    version: v1p1
    baseUrl: https://${id}.example/ims/oneroster
    auth: { type: bearer, token: t }
${extra}`;
const config = (defaults: string, ...districts: string[]) => `auth: { tokenSecret: ${'x'.repeat(40)} }
${defaults}
districts:
${districts.join('')}`;

describe('defaults', () => {
  it('merges upstream, cache and mirror into every district; the district wins, key by key', () => {
    const cfg = parseConfig(
      config(
        `defaults:
  upstream: { maxConcurrency: 2, timeoutMs: 90000, retry: { maxAttempts: 5 } }
  cache: { ttlSeconds: 120, collections: { users: { ttlSeconds: 30 } } }
  mirror: { fullRefreshSeconds: 7200 }`,
        district('plain'),
        district('own', '    upstream: { maxConcurrency: 8, retry: { baseDelayMs: 50 } }\n    cache: { ttlSeconds: 600 }\n    mirror: true\n'),
      ),
      {},
      'gateway.yaml',
    );
    const [plain, own] = cfg.districts;
    expect(plain!.upstream).toMatchObject({ maxConcurrency: 2, timeoutMs: 90000, retry: { maxAttempts: 5, baseDelayMs: 200 } });
    expect(plain!.cache).toMatchObject({ ttlSeconds: 120, collections: { users: { ttlSeconds: 30 } } });
    // A defaults.mirror without `enabled` tunes the districts that mirror; it switches none on.
    expect(plain!.mirror).toEqual({ enabled: false, fullRefreshSeconds: 7200 });
    expect(own!.upstream).toMatchObject({ maxConcurrency: 8, timeoutMs: 90000, retry: { maxAttempts: 5, baseDelayMs: 50 } });
    expect(own!.cache).toMatchObject({ ttlSeconds: 600, collections: { users: { ttlSeconds: 30 } } });
    expect(own!.mirror).toEqual({ enabled: true, fullRefreshSeconds: 7200 });
  });

  it('lets `defaults.mirror: true` mirror every district but the ones that say false', () => {
    const cfg = parseConfig(config('defaults: { mirror: true }', district('a'), district('b', '    mirror: false\n')), {}, 'g.yaml');
    expect(cfg.districts.map((d) => d.mirror.enabled)).toEqual([true, false]);
  });

  it('reports a bad default once, at the default, naming the districts it reached', () => {
    const ids = ['d1', 'd2', 'd3', 'd4', 'd5'];
    const text = config('defaults:\n  upstream: { timeoutMs: 5, colour: blue }', ...ids.map((id) => district(id)), district('fine', '    upstream: { timeoutMs: 1000 }\n'));
    const issues = placedIssuesOf(text, {}, 'gateway.yaml');
    expect(issues).toEqual([
      'gateway.yaml:3:26: defaults.upstream.timeoutMs: Too small: expected number to be >=100 (merged into districts d1, d2, d3 and 2 more)',
      'gateway.yaml:3:37: defaults.upstream.colour: unknown key (merged into districts d1, d2, d3 and 3 more)',
    ]);
  });

  it("reports a district's own bad value at the district, not at the default", () => {
    const issues = issuesOf(config('defaults:\n  upstream: { timeoutMs: 1000 }', district('a', '    upstream: { timeoutMs: 1 }\n')));
    expect(issues).toEqual(['districts[a].upstream.timeoutMs: Too small: expected number to be >=100']);
  });

  it('refuses unknown sections and non-mapping sections by path', () => {
    expect(issuesOf(config('defaults:\n  auth: { type: bearer }\n  upstream: 3', district('a')))).toEqual([
      'defaults.auth: unknown key (a default is one of upstream, cache, mirror)',
      'defaults.upstream: must be a mapping',
    ]);
    expect(issuesOf(config('defaults: [upstream]', district('a')))).toEqual(['defaults: must be a mapping of upstream, cache, mirror']);
  });

  it('substitutes ${VAR} in defaults and reports a missing one once', () => {
    const cfg = parseConfig(config('defaults:\n  upstream: { maxConcurrency: "${CONC}" }', district('a'), district('b')), { CONC: '3' }, 'g.yaml');
    expect(cfg.districts.map((d) => d.upstream.maxConcurrency)).toEqual([3, 3]);
    expect(issuesOf(config('defaults:\n  upstream: { maxConcurrency: "${CONC}" }', district('a'), district('b')))).toEqual([
      'defaults.upstream.maxConcurrency: environment variable CONC is not set',
    ]);
  });
});
