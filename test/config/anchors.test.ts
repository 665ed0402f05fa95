// YAML anchors, aliases and merge keys (`<<: *base`) for shared district settings, with alias
// expansion bounded (billion laughs).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { issuesOf, placedIssuesOf } from './issues.js';

const HEAD = `auth: { tokenSecret: ${'x'.repeat(40)} }\n`;

describe('anchors and merge keys', () => {
  it('accepts <<: *anchor (one or a list) with the mapping’s own keys winning, and x- keys as a home for anchors', () => {
    const cfg = parseConfig(
      `${HEAD}x-sis: &sis
  version: v1p1
  auth: { type: bearer, token: shared-token }
  upstream: &slow { maxConcurrency: 1, timeoutMs: 120000 }
x-v2: &v2 { version: v1p2 }
districts:
  - <<: *sis
    id: a
    baseUrl: https://a.example/ims/oneroster
  - <<: [*v2, *sis]
    id: b
    baseUrl: https://b.example/ims/oneroster
    upstream: { <<: *slow, maxConcurrency: 3 }
`,
      {},
      'g.yaml',
    );
    expect(cfg.districts.map((d) => [d.id, d.version, d.auth.type, d.upstream.maxConcurrency, d.upstream.timeoutMs])).toEqual([
      ['a', 'v1p1', 'bearer', 1, 120000],
      ['b', 'v1p2', 'bearer', 3, 120000],
    ]);
  });

  it('places a bad value inherited through an alias at the anchor, where it is written', () => {
    const text = `${HEAD}x-sis: &sis
  version: v1p9
districts:
  - { <<: *sis, id: a, baseUrl: https://a.example, auth: { type: bearer, token: t } }
`;
    expect(placedIssuesOf(text, {}, 'g.yaml')).toEqual(['g.yaml:3:12: districts[a].version: must be v1p1, v1p2 or auto']);
  });

  it('lets 2,000 districts merge one anchor', () => {
    const districts = Array.from({ length: 2000 }, (_, i) => `  - { <<: *d, id: d${i}, baseUrl: https://d${i}.example }`).join('\n');
    const cfg = parseConfig(`${HEAD}x-d: &d { version: v1p1, auth: { type: bearer, token: t } }\ndistricts:\n${districts}\n`, {}, 'g.yaml');
    expect(cfg.districts).toHaveLength(2000);
  });

  it('refuses nested aliases that multiply (billion laughs), quickly', () => {
    const levels = 'abcdefghij'.split('');
    const bomb = [`${levels[0]}: &${levels[0]} [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]`, ...levels.slice(1).map((c, i) => `${c}: &${c} [${Array(10).fill(`*${levels[i]}`).join(', ')}]`)].join('\n');
    const start = performance.now();
    expect(issuesOf(`${HEAD}x-${bomb.replace(/\n/g, '\nx-')}`)).toEqual([expect.stringMatching(/^YAML: Excessive alias count/)]);
    expect(performance.now() - start).toBeLessThan(2000);
  });

  it('refuses a wide anchor aliased many times (under yaml’s alias count, over the values budget), quickly', () => {
    const wide = `x-wide: &w [${Array(2000).fill('1').join(',')}]\nx-copies: [${Array(5000).fill('*w').join(',')}]\n`;
    const start = performance.now();
    expect(issuesOf(`${HEAD}${wide}`)).toEqual(['YAML: the document expands (through aliases) to too many values (more than 2000000): refused']);
    expect(performance.now() - start).toBeLessThan(5000);
  });
});
