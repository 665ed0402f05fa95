import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type GatewayConfig } from './schema.js';

/** A configuration problem; `issues` are `path: message` lines that never contain a value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly issues: string[],
    readonly source: string,
  ) {
    super(`invalid configuration in ${source}:\n  ${issues.join('\n  ')}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const VAR = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}\n]*))?\}/g;

type Reference = ({ literal: string } | { name: string; fallback: string | undefined }) & { source: string };

/** `districts[2].auth.tokenUrl` from a zod/walk path. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

// ${VAR} is swapped for an inert placeholder before YAML parsing, because `{ key: ${VAR} }`
// in a flow map is not valid YAML, and put back afterwards in each string scalar, so a
// value can never inject YAML structure and a missing variable is reported by field.
interface Protected {
  text: string;
  refs: Reference[];
  /** Matches the placeholders; its tag is absent from the file, so the file cannot forge one. */
  placeholder: RegExp;
}

function protect(text: string): Protected {
  let tag = 'ORGW_ENV';
  while (text.includes(tag)) tag += 'X';
  const refs: Reference[] = [];
  const out = text.replace(VAR, (whole, name: string | undefined, fallback: string | undefined) => {
    refs.push(whole === '$$' ? { literal: '$', source: whole } : { name: name!, fallback, source: whole });
    return `__${tag}_${refs.length - 1}__`;
  });
  return { text: out, refs, placeholder: new RegExp(`__${tag}_(\\d+)__`, 'g') };
}

/** A YAML mapping; `!!binary`, `!!timestamp`, `!!set` and `!!omap` give other objects, left to the schema to refuse by path. */
function isMapping(node: unknown): node is Record<string, unknown> {
  return !!node && typeof node === 'object' && Object.getPrototypeOf(node) === Object.prototype;
}

function substitute(node: unknown, p: Protected, env: Env, path: PropertyKey[], issues: string[]): unknown {
  if (typeof node === 'string') {
    return node.replace(p.placeholder, (whole: string, i: string) => {
      const ref = p.refs[Number(i)];
      if (!ref) return whole; // spelled with YAML escapes in the file: its own text
      if ('literal' in ref) return ref.literal;
      const value = env[ref.name];
      if (value !== undefined && value !== '') return value;
      if (ref.fallback !== undefined) return ref.fallback;
      issues.push(`${formatPath(path)}: environment variable ${ref.name} is not set`);
      return '';
    });
  }
  if (Array.isArray(node)) return node.map((v, i) => substitute(v, p, env, [...path, i], issues));
  if (isMapping(node)) {
    // fromEntries defines each key, so a `__proto__` key stays a key (refused as unknown)
    // instead of becoming the object's prototype and lending it fields the file never set.
    // Keys are not substituted; they get their text back so messages name what the file says.
    return Object.fromEntries(
      Object.entries(node).map(([raw, v]) => {
        const k = raw.replace(p.placeholder, (whole: string, i: string) => p.refs[Number(i)]?.source ?? whole);
        return [k, substitute(v, p, env, [...path, k], issues)];
      }),
    );
  }
  return node;
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const at = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key`);
  }
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return [`${at}: required`];
  // zod's messages describe the expectation, never the offending value, so secrets stay out.
  return [`${at}: ${issue.message.replace(/^Invalid input: /, '')}`];
}

export function parseConfig(text: string, env: Env, source: string): Readonly<GatewayConfig> {
  const protectedText = protect(text);
  const doc = parseDocument(protectedText.text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    // YAML errors carry line/column, not values.
    throw new ConfigError(
      doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`),
      source,
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS() ?? {};
  } catch (err) {
    // An alias to no anchor, or aliases expanding past yaml's maxAliasCount, fail only here.
    throw new ConfigError([`YAML: ${String((err as Error).message).split('\n')[0]}`], source);
  }
  if (!isMapping(raw)) throw new ConfigError(['(root): must be a mapping'], source);
  const issues: string[] = [];
  const substituted = substitute(raw, protectedText, env, [], issues);
  // Report every problem at once; a field already reported for its variable is not reported twice.
  const result = configSchema.safeParse(substituted);
  if (!result.success || issues.length > 0) {
    const envFields = new Set(issues.map((i) => i.slice(0, i.indexOf(': '))));
    const schemaIssues = result.success ? [] : result.error.issues.flatMap(describeIssue);
    throw new ConfigError([...issues, ...schemaIssues.filter((i) => !envFields.has(i.slice(0, i.indexOf(': '))))], source);
  }
  const config = result.data;
  // PORT is how container platforms hand out the listening port.
  const port = env.PORT;
  if (port !== undefined && port !== '') {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(['PORT: must be an integer 0-65535'], source);
    config.server.port = n;
  }
  return deepFreeze(config);
}

export function loadConfigFile(file: string, env: Env): Readonly<GatewayConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([`cannot read config file (${code})`], file);
  }
  return parseConfig(text, env, file);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
