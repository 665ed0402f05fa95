// deploy/prometheus/alerts.yml is valid for Prometheus (promtool check rules) and its alerts fire
// when they should and not otherwise (promtool test rules: a quiet district that syncs fine does
// not page, a stuck one does). promtool comes from Debian's `prometheus` package; CI must have
// it, a developer's machine without it skips with a warning.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p)) ?? (spawnSync('promtool', ['--version']).status === 0 ? 'promtool' : undefined);

if (!promtool && process.env.CI === 'true') {
  throw new Error('CI needs promtool to check deploy/prometheus/alerts.yml: apt-get install -y --no-install-recommends prometheus');
}
if (!promtool) console.warn('promtool not found (apt-get install prometheus): the alert rules are not checked here');

const run = (...args: string[]) => {
  const r = spawnSync(promtool!, args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

describe.runIf(promtool !== undefined)('deploy/prometheus/alerts.yml', () => {
  it('passes promtool check rules', () => {
    const r = run('check', 'rules', 'alerts.yml');
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it("passes its unit tests (promtool test rules alerts.test.yml)", () => {
    const r = run('test', 'rules', 'alerts.test.yml');
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});
