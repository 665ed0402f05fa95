import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { issuesOf } from './issues.js';
import { mirrorSettings } from '../../src/mirror/index.js';

const base = (district = '', top = '') => `
auth:
  tokenSecret: ${'x'.repeat(40)}
  clients: []
districts:
  - id: springfield
    version: v1p1
    baseUrl: https://sis.example.org/ims/oneroster
    auth: { type: bearer, token: t }
${district}
${top}`;


describe('mirror config', () => {
  it('defaults to an in-process store, a daily full pull, a 20% shrink guard and the seven rostering collections; districts are not mirrored', () => {
    const cfg = parseConfig(base(), {}, 't');
    expect(cfg.mirror).toMatchObject({
      store: 'memory',
      fullRefreshSeconds: 86_400,
      shrinkGuardPercent: 20,
      collections: ['orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments', 'demographics'],
    });
    expect(cfg.districts[0]!.mirror).toEqual({ enabled: false });
    expect(mirrorSettings(cfg.mirror, cfg.districts[0])).toBeUndefined();
  });

  it('takes `mirror: true`, or an object whose settings override the section', () => {
    const on = parseConfig(base('    mirror: true', 'mirror: { fullRefreshSeconds: 3600 }'), {}, 't');
    expect(mirrorSettings(on.mirror, on.districts[0])).toEqual({ fullRefreshSeconds: 3600, collections: on.mirror.collections });
    const own = parseConfig(base('    mirror: { fullRefreshSeconds: 600, collections: [orgs, users] }'), {}, 't');
    expect(mirrorSettings(own.mirror, own.districts[0])).toEqual({ fullRefreshSeconds: 600, collections: ['orgs', 'users'] });
    const off = parseConfig(base('    mirror: { enabled: false, fullRefreshSeconds: 600 }'), {}, 't');
    expect(mirrorSettings(off.mirror, off.districts[0])).toBeUndefined();
    const fromEnv = parseConfig(base('    mirror: ${MIRROR:-false}'), { MIRROR: 'true' }, 't');
    expect(fromEnv.districts[0]!.mirror).toEqual({ enabled: true });
  });

  it('accepts a postgres:// store from the environment', () => {
    const cfg = parseConfig(base('', 'mirror: { store: "${PG}" }'), { PG: 'postgres://gw:pw@db:5432/gateway' }, 't');
    expect(cfg.mirror.store).toBe('postgres://gw:pw@db:5432/gateway');
  });

  it('refuses bad values at start-up, naming the field and never the value', () => {
    const issues = issuesOf(base('    mirror: { collections: [users, lineItems], every: 3 }', 'mirror: { store: "mysql://u:hunter2@db/x", shrinkGuardPercent: 120, fullRefreshSeconds: 5, collections: [users, users] }'));
    expect(issues.join('\n')).toMatch(/mirror\.store: must be "memory" or a postgres:\/\/ URL/);
    expect(issues.join('\n')).toMatch(/mirror\.shrinkGuardPercent/);
    expect(issues.join('\n')).toMatch(/mirror\.fullRefreshSeconds/);
    expect(issues.join('\n')).toMatch(/mirror\.collections: lists a collection twice/);
    expect(issues).toContain('districts[springfield].mirror.collections[1]: must be one of orgs, academicSessions, courses, classes, users, enrollments, demographics');
    expect(issues).toContain('districts[springfield].mirror.every: unknown key');
    expect(issuesOf(base('    mirror: yes'))).toEqual(['districts[springfield].mirror: must be true, false or { enabled, fullRefreshSeconds, collections }']);
    expect(issues.join('\n')).not.toContain('hunter2');
  });
});
