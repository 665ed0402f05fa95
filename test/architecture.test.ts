import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Keeps the layering of ../shared/STYLE.md true: imports point inward.
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const SRC = resolve('src');
const imports = files(SRC).map((file) => {
  const text = readFileSync(file, 'utf8');
  // Static imports and re-exports, and dynamic import('...'): a lazily loaded module is still a dependency.
  const specs = [
    ...[...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!),
  ];
  const layer = relative(SRC, file).split('/')[0]!;
  const targets = specs.map((s) => (s.startsWith('.') ? relative(SRC, resolve(dirname(file), s)).split('/')[0]! : `pkg:${s}`));
  return { file: relative(SRC, file), layer, targets };
});

const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  config: ['config', 'core'],
  auth: ['auth', 'core'],
  upstream: ['upstream', 'core', 'config'],
  districts: ['districts', 'core', 'upstream', 'config'],
  sync: ['sync', 'core', 'districts', 'upstream', 'cache', 'service'],
  cache: ['cache'],
  // Content codings and digests of answer bodies (zlib, crypto): no OneRoster, no HTTP framework;
  // the forms made after a page was stored are kept in cache/'s bounded memo.
  compression: ['compression', 'core', 'cache'],
  limits: ['limits', 'core', 'cache'],
  service: ['service', 'core', 'districts', 'upstream', 'cache', 'mirror'],
  // The mirror's stores and pulls: a district's data held whole, read through its own client.
  mirror: ['mirror', 'core', 'districts', 'upstream', 'config'],
  observability: ['observability'],
  http: ['http', 'core', 'auth', 'districts', 'service', 'observability', 'compression'],
  sandbox: ['sandbox'],
  // The operator commands read the config and mint tokens; serve loads the gateway (and the
  // config's sandboxes beside it) itself, lazily.
  cli: ['cli', 'config', 'core', 'auth', 'observability', 'gateway', 'sandbox-host'],
};

describe('architecture', () => {
  it('has src files to check', () => {
    expect(imports.length).toBeGreaterThan(20);
  });

  it.each(Object.keys(ALLOWED))('%s imports only from its allowed layers', (layer) => {
    const bad = imports
      .filter((i) => i.layer === layer)
      .flatMap((i) => i.targets.filter((t) => !t.startsWith('pkg:') && !ALLOWED[layer]!.includes(t.replace(/\.js$/, ''))).map((t) => `${i.file} -> ${t}`));
    expect(bad).toEqual([]);
  });

  it('keeps core free of I/O and frameworks, and hono inside http/', () => {
    const bad = imports.flatMap((i) =>
      i.targets
        .filter((t) => t.startsWith('pkg:'))
        .filter((t) => (i.layer === 'core' ? true : /^pkg:(hono|@hono\/)/.test(t) && !['http', 'gateway.ts', 'main.ts'].includes(i.layer)))
        .map((t) => `${i.file} -> ${t}`),
    );
    expect(bad).toEqual([]);
  });
});
