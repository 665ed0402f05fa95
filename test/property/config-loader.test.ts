// Fuzzing the config loader: arbitrary text, and the shipped example configs with fields
// changed, removed or added, give a frozen config or a ConfigError whose every line names
// the field (or YAML / PORT) it is about, and never repeats a secret.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { displayPath } from '../../src/config/problems.js';
import { anyText } from './arbitraries.js';

type Json = unknown;
type Path = Array<string | number>;

const BASE = {
  auth: { tokenSecret: 'x'.repeat(40), clients: [{ clientId: 'app', clientSecret: 'app-secret-123456', districts: ['springfield'], scopes: ['roster.readonly'] }] },
  districts: [{ id: 'springfield', version: 'v1p1', baseUrl: 'https://sis.example.org/ims/oneroster/', auth: { type: 'oauth1', consumerKey: 'k', consumerSecret: 's' } }],
};

// `${VAR}` is not YAML inside a flow map: quote the bare ones so the examples parse as data.
const quoteRefs = (text: string) => text.replace(/(?<![\w"'])\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}\n]*)?\}/g, '"$&"');
const EXAMPLES: Record<string, Json> = {
  base: BASE,
  'gateway.example.yaml': parseYaml(quoteRefs(readFileSync('gateway.example.yaml', 'utf8'))),
  // merge: the example shares settings through an anchor and a merge key, as the loader allows.
  'multi-district': parseYaml(quoteRefs(readFileSync('config/multi-district.example.yaml', 'utf8')), { merge: true }),
  classlink: parseYaml(quoteRefs(readFileSync('config/classlink.example.yaml', 'utf8'))),
};

/** Every ${VAR} of the examples, set to a value its field accepts. */
const ENV: Record<string, string> = {};
for (const text of ['gateway.example.yaml', 'config/multi-district.example.yaml', 'config/classlink.example.yaml'].map((f) => readFileSync(f, 'utf8'))) {
  for (const [, name] of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    ENV[name!] = name!.endsWith('SHA256') ? 'ab'.repeat(32) : `value-of-${name!.toLowerCase()}-0123456789abcdef`;
  }
}

function nodes(value: Json, path: Path = [], out: Array<{ path: Path; value: Json }> = []) {
  out.push({ path, value });
  if (Array.isArray(value)) value.forEach((v, i) => nodes(v, [...path, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) nodes(v, [...path, k], out);
  return out;
}

/** Every key the examples use anywhere: a missing one is reported under its parent's path. */
const KNOWN_KEYS = new Set(Object.values(EXAMPLES).flatMap((e) => nodes(e).flatMap((n) => n.path.filter((p): p is string => typeof p === 'string'))));
KNOWN_KEYS.add('tokenSecret').add('clientSecret').add('token').add('tokenUrl').add('consumerSecret').add('districts');

const clone = <T>(v: T): T => structuredClone(v);

function setAt(root: Json, path: Path, fn: (parent: Record<string | number, Json>, key: string | number) => void): Json {
  if (path.length === 0) return root;
  let parent = root as Record<string | number, Json>;
  for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, Json>;
  fn(parent, path.at(-1)!);
  return root;
}

const randomValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom('', ' ', '0', '-1', '1e309', 'true', 'null', '${NOPE}', '${NOPE:-}', '$$', '${', 'sandbox://nowhere/x', 'redis://', 'v1p3', '*', 'classlink-*'),
  fc.constantFrom(0, -1, 1.5, 65536, Number.MAX_SAFE_INTEGER, 1e21),
  anyText,
);

interface Mutation {
  op: 'set' | 'delete' | 'add' | 'wrap';
  pick: number;
  key: string;
  value: Json;
}
const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('set' as const, 'set' as const, 'delete' as const, 'add' as const, 'wrap' as const),
  pick: fc.nat(),
  key: fc.oneof(fc.constantFrom('extra', 'ttl', 'port', '__proto__', 'constructor', 'toString', 'a.b', 'x y'), fc.string({ maxLength: 8 })),
  value: randomValue,
});

function mutate(doc: Json, m: Mutation): Json {
  const all = nodes(doc);
  const target = all[m.pick % all.length]!;
  if (m.op === 'add') {
    const objects = all.filter((n) => n.value && typeof n.value === 'object' && !Array.isArray(n.value));
    const o = objects[m.pick % objects.length];
    if (o) Object.defineProperty(o.value, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
    return doc;
  }
  if (target.path.length === 0) return m.op === 'set' ? m.value : doc;
  return setAt(doc, target.path, (parent, key) => {
    if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else parent[key] = m.op === 'wrap' ? [parent[key]] : m.value;
  });
}

/** The outcome: a config, or the ConfigError's issues (anything else is rethrown). */
function load(text: string, env: Record<string, string | undefined>): { config: object } | { issues: string[]; message: string } {
  try {
    const config = parseConfig(text, env, 'fuzz.yaml');
    expect(Object.isFrozen(config)).toBe(true);
    return { config };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    expect(e.issues.length).toBeGreaterThan(0);
    return { issues: e.issues, message: e.message };
  }
}

/** The issue without its `fuzz.yaml:line:col: ` place. */
const unplaced = (issue: string) => issue.replace(/^fuzz\.yaml(:\d+:\d+)?: /, '');

/** An issue line starts with the path of a field of the document (list entries by id), or of a known key under one. */
function namesAField(placed: string, doc: Json): boolean {
  const issue = unplaced(placed);
  if (/^(YAML|PORT|\(root\)): /.test(issue)) return true;
  const present = nodes(doc).map((n) => n.path);
  return present.some((p) => {
    const own = displayPath(p, doc);
    if (p.length > 0 && issue.startsWith(`${own}: `)) return true;
    return [...KNOWN_KEYS].some((k) => issue.startsWith(`${displayPath([...p, k], doc)}: `));
  });
}

const example = fc.constantFrom(...Object.keys(EXAMPLES));
const serialize = fc.constantFrom('json', 'yaml');
const text = (doc: Json, how: string) => (how === 'json' ? JSON.stringify(doc) ?? 'null' : stringifyYaml(doc));

describe('parseConfig', () => {
  it('loads every example as shipped (the baseline the mutations start from)', () => {
    for (const [name, doc] of Object.entries(EXAMPLES)) {
      const r = load(JSON.stringify(doc), ENV);
      expect('config' in r ? 'ok' : `${name}: ${r.issues.join('; ')}`).toBe('ok');
    }
  });

  it('answers arbitrary text with a config or a ConfigError, nothing else', () => {
    const yamlish = fc
      .array(fc.constantFrom('server', 'auth', ':', ': ', '- ', '\n', '  ', '{', '}', '[', ']', ',', '${', '}', '${X}', '$$', '&a ', '*a', '!!binary ', '!!js/function ', '#', '---\n', '...', '"', "'", '|', '>', '? ', '<<: ', 'port', '8080', 'null', '~', '\t', '%YAML 1.2\n', '\u0000', '\ufeff', '__ORGW_ENV_0__', '__ORGW_ENV_7__'), { maxLength: 40 })
      .map((t) => t.join(''));
    fc.assert(
      fc.property(fc.oneof(anyText, yamlish, fc.jsonValue().map((v) => JSON.stringify(v))), (t) => {
        const r = load(t, {});
        if ('config' in r) return true;
        // The loader swaps ${...} and $$ before YAML reads the text (a `!!binary ${X}` key then
        // decodes otherwise): with those, only the `path: message` shape is checked here.
        if (t.includes('$')) return r.issues.every((i) => /^.+?: ./s.test(unplaced(i)));
        let doc: Json;
        try {
          doc = parseYaml(t, { logLevel: 'silent' }) ?? {};
        } catch {
          return r.issues.every((i) => unplaced(i).startsWith('YAML: '));
        }
        return r.issues.every((i) => namesAField(i, doc));
      }),
      { numRuns: 1000 },
    );
  });

  it('regressions: a __proto__ key is an unknown key, not a prototype; keys keep their ${...} text', () => {
    const issues = (t: string) => {
      const r = load(t, ENV);
      return 'issues' in r ? r.issues.map(unplaced) : [];
    };
    const withProto = JSON.stringify(BASE).replace('"auth":{', '"auth":{"__proto__":{"tokenTtlSeconds":60},');
    expect(issues(withProto)).toContain('auth.__proto__: unknown key');
    expect(issues(JSON.stringify(BASE).replace('"auth":{', () => '"auth":{"$$":1,'))).toContain('auth.$$: unknown key');
    expect(issues('!!binary aGVsbG8=')).toEqual(['(root): must be a mapping']);
    expect(issues('server: { host: __ORGW_ENV_3__ }\nauth: { tokenSecret: ${NOPE} }')).toEqual(['auth.tokenSecret: environment variable NOPE is not set']);
    // Text shaped like the loader's own placeholders is the file's text, not a variable.
    expect(issues('__ORGW_ENV_0__${X}: 1\nauth: { tokenSecret: "__ORGW\\x5fENV_7__" }').sort()).toEqual(['__ORGW_ENV_0__${X}: unknown key', 'auth.tokenSecret: must be at least 32 characters']);
    // yaml throws some errors only when building the value: an alias without an anchor, alias bombs.
    expect(issues('*a')).toEqual([expect.stringMatching(/^YAML: .*alias/i)]);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefg'[i]}`).join(', ')}]`)].join('\n');
    expect(issues(bomb)).toEqual([expect.stringMatching(/^YAML: /)]);
  });

  it('answers mutated example configs with a config or a ConfigError naming a field path in every line', () => {
    fc.assert(
      fc.property(example, fc.array(mutation, { minLength: 1, maxLength: 3 }), serialize, (name, ms, how) => {
        const doc = ms.reduce(mutate, clone(EXAMPLES[name]));
        const r = load(text(doc, how), ENV);
        if ('config' in r) return true;
        const unnamed = r.issues.filter((i) => !namesAField(i, doc));
        if (unnamed.length > 0) throw new Error(`issues without a field path: ${JSON.stringify(unnamed)}`);
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it('never repeats a secret in its message, whatever else is wrong', () => {
    const SECRET_PATHS: Record<string, Path[]> = {
      base: [['auth', 'tokenSecret'], ['auth', 'clients', 0, 'clientSecret'], ['districts', 0, 'auth', 'consumerSecret']],
      'gateway.example.yaml': [['auth', 'tokenSecret'], ['auth', 'clients', 0, 'clientSecret'], ['districts', 0, 'auth', 'consumerSecret']],
      'multi-district': [['auth', 'tokenSecret'], ['districts', 1, 'auth', 'clientSecret'], ['districts', 2, 'auth', 'token']],
      classlink: [['auth', 'tokenSecret'], ['classlink', 'token']],
    };
    const secret = fc.oneof(fc.string({ minLength: 0, maxLength: 40 }), fc.constantFrom('', ' ', 'short', '${NOPE}')).map((s) => `SeCrEt~${s}`);
    fc.assert(
      fc.property(example, fc.nat(), secret, fc.array(mutation, { maxLength: 2 }), serialize, (name, which, value, ms, how) => {
        const paths = SECRET_PATHS[name]!;
        const doc = ms.reduce(mutate, setAt(clone(EXAMPLES[name]), paths[which % paths.length]!, (p, k) => (p[k] = value)));
        const r = load(text(doc, how), { ...ENV, GATEWAY_TOKEN_SECRET: value });
        return 'config' in r || !r.message.includes('SeCrEt~');
      }),
      { numRuns: 500 },
    );
  });

  it('answers arbitrary environments (PORT included) with a config or a ConfigError naming the field', () => {
    const names = Object.keys(ENV);
    const env = fc.dictionary(fc.constantFrom(...names, 'PORT'), fc.oneof(anyText, fc.constantFrom('', '0', '65536', '8080', ' 80 ', '1e3', '${X}', '$$')), { maxKeys: 6 });
    fc.assert(
      fc.property(example, env, serialize, (name, e, how) => {
        const doc = EXAMPLES[name];
        const r = load(text(doc, how), { ...ENV, ...e });
        if ('config' in r) return true;
        return r.issues.every((i) => namesAField(i, doc));
      }),
      { numRuns: 300 },
    );
  });
});
