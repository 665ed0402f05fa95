// Loading the config: the main file, its districtsDir, defaults merged into each district,
// then one validation; every problem reported at once, placed in its file.
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { checkDefaults, fromDefaults, normalizedDefaults, ownSections, withDefaults, type Defaults } from './defaults.js';
import { FileReadError, readBounded } from './files.js';
import { ConfigError, displayPath, problemLine, valueAt } from './problems.js';
import { configSchema, type GatewayConfig } from './schema.js';
import { MAX_VALUES, readDistrictsDir, readYaml, type ReadContext } from './sources.js';
import { isMapping, newFileRefs, type RawProblem } from './substitute.js';
import { placeOf, placeText, type Place, type YamlSource } from './yaml-source.js';

export { ConfigError, formatPath } from './problems.js';

type Env = Readonly<Record<string, string | undefined>>;

/** A config file of 300 districts written out is well under 1 MiB. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export interface LoadedConfig {
  config: Readonly<GatewayConfig>;
  /** The file each district (by index) was read from: the main file or its districtsDir file. */
  districtFiles: readonly string[];
}

function describeIssue(issue: z.core.$ZodIssue): RawProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({ path: [...issue.path, k], message: 'unknown key' }));
  }
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return [{ path: issue.path, message: 'required' }];
  // zod's messages describe the expectation, never the offending value, so secrets stay out.
  return [{ path: issue.path, message: issue.message.replace(/^Invalid input: /, '') }];
}

/** What the formatter needs to place a path and name districts by id. */
interface Layout {
  main: YamlSource;
  /** The source of each district read from districtsDir, by index in the whole list. */
  dirSources: Map<number, YamlSource>;
  /** The tree as validated (defaults merged), for ids. */
  tree: Record<string, unknown>;
  defaults: Defaults | undefined;
  /** Each district as written (before defaults), to tell its own values from defaulted ones. */
  own: unknown[];
}

function placeIn(layout: Layout, path: readonly PropertyKey[]): Place {
  const i = path[0] === 'districts' && typeof path[1] === 'number' ? path[1] : -1;
  const dir = layout.dirSources.get(i);
  return dir ? placeOf(dir, path.slice(2)) : placeOf(layout.main, path);
}

/** The path a problem is reported at: a value a district took from `defaults:` is the default's problem. */
function reportedAt(layout: Layout, path: readonly PropertyKey[]): { path: PropertyKey[]; district?: number } {
  const i = path[0] === 'districts' && typeof path[1] === 'number' ? path[1] : -1;
  if (i >= 0 && fromDefaults(layout.own[i], layout.defaults, path.slice(2))) return { path: ['defaults', ...path.slice(2)], district: i };
  return { path: [...path] };
}

/** Problem lines; a bad default is reported once, at the default, naming the districts it reached. */
function formatProblems(layout: Layout, problems: RawProblem[]): string[] {
  const lines: string[] = [];
  const fromDefault = new Map<string, string[]>();
  for (const { path, message } of problems) {
    const at = reportedAt(layout, path);
    if (at.district !== undefined) {
      const key = problemLine(placeOf(layout.main, at.path), displayPath(at.path, layout.tree), message);
      const ids = fromDefault.get(key) ?? [];
      if (ids.length === 0) fromDefault.set(key, ids);
      ids.push(displayPath(['districts', at.district], layout.tree).replace(/^districts\[(.*)\]$/, '$1'));
      continue;
    }
    lines.push(problemLine(placeIn(layout, path), displayPath(path, layout.tree), message));
  }
  for (const [line, ids] of fromDefault) {
    const named = ids.length > 3 ? `${ids.slice(0, 3).join(', ')} and ${ids.length - 3} more` : ids.join(', ');
    lines.push(`${line} (merged into district${ids.length === 1 ? '' : 's'} ${named})`);
  }
  return lines;
}

/**
 * Duplicate ids, each naming where the first one is (another districtsDir file, or the main
 * list). Checked here rather than only in the schema, whose cross-checks wait for every
 * district to be valid: with 300 districts, the duplicate should not hide behind a typo.
 */
function duplicateIds(layout: Layout): RawProblem[] {
  const first = new Map<string, number>();
  const problems: RawProblem[] = [];
  (layout.tree.districts as unknown[] | undefined)?.forEach?.((d, i) => {
    const id = valueAt(d, ['id']);
    if (typeof id !== 'string') return;
    const j = first.get(id);
    if (j === undefined) first.set(id, i);
    else problems.push({ path: ['districts', i, 'id'], message: `duplicate district id "${id}" (first at ${placeText(placeIn(layout, ['districts', j, 'id']))})` });
  });
  return problems;
}

/** The districts of `districts:` then of `districtsDir`, each with the file it was read from. */
function gatherDistricts(raw: Record<string, unknown>, source: string, ctx: ReadContext) {
  const districts: unknown[] = Array.isArray(raw.districts) ? [...(raw.districts as unknown[])] : [];
  const files = districts.map(() => source);
  const dirSources = new Map<number, YamlSource>();
  // A `districts:` that is not a list is left for the schema to refuse by path.
  const listed = raw.districts === undefined || Array.isArray(raw.districts);
  if (raw.districtsDir !== undefined && listed) {
    for (const d of readDistrictsDir(raw.districtsDir, dirname(resolve(source)), districts.length, ctx)) {
      dirSources.set(districts.length, d.source);
      files.push(d.file);
      districts.push(d.data);
    }
  }
  return { districts, files, dirSources, listed };
}

export function parseConfigFile(text: string, env: Env, source: string): LoadedConfig {
  const ctx: ReadContext = { env, lines: [], problems: [], budget: { left: MAX_VALUES }, files: newFileRefs() };
  const main = readYaml(text, source, [], ctx);
  if (!main) throw new ConfigError(ctx.lines, source);
  const { data: raw } = main;
  const checked = checkDefaults(raw.defaults, ctx.problems);
  const defaults = checked && normalizedDefaults(checked);
  const { districts, files, dirSources, listed } = gatherDistricts(raw, source, ctx);
  // Directives for the loader, not settings: the schema sees the districts they produce. Top-level
  // `x-` keys are a home for YAML anchors (`x-district: &district ...`), as in Compose files.
  const tree = Object.fromEntries(Object.entries(raw).filter(([k]) => k !== 'defaults' && k !== 'districtsDir' && !k.startsWith('x-')));
  if (!listed) tree.districts = raw.districts;
  else if (raw.districts !== undefined || dirSources.size > 0) tree.districts = districts.map((d) => withDefaults(d, defaults));
  const own = districts.map((d) => (defaults && isMapping(d) ? ownSections(d, defaults) : d));
  const layout: Layout = { main: main.source, dirSources, tree, defaults, own };
  ctx.problems.push(...duplicateIds(layout));
  const result = configSchema.safeParse(tree);
  if (!result.success || ctx.problems.length > 0 || ctx.lines.length > 0) {
    // Report every problem at once; a field already reported for its variable or file is not reported twice.
    const key = (path: readonly PropertyKey[]) => displayPath(reportedAt(layout, path).path, tree);
    const reported = new Set(ctx.problems.map((p) => key(p.path)));
    const schemaProblems = result.success ? [] : result.error.issues.flatMap(describeIssue).filter((p) => !reported.has(key(p.path)));
    throw new ConfigError([...ctx.lines, ...formatProblems(layout, [...ctx.problems, ...schemaProblems])], source);
  }
  const config = result.data;
  // PORT is how container platforms hand out the listening port.
  const port = env.PORT;
  if (port !== undefined && port !== '') {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(['PORT: must be an integer 0-65535'], source);
    config.server.port = n;
  }
  return { config: deepFreeze(config), districtFiles: Object.freeze(files) };
}

/** The validated config from a config text; `source` names the file in problems and anchors relative paths. */
export function parseConfig(text: string, env: Env, source: string): Readonly<GatewayConfig> {
  return parseConfigFile(text, env, source).config;
}

/** The main file and everything it names (districtsDir, ${file:...}), validated; throws ConfigError with every problem. */
export function readConfigFile(file: string, env: Env): LoadedConfig {
  let text: string;
  try {
    text = readBounded(file, MAX_CONFIG_BYTES);
  } catch (err) {
    throw new ConfigError([`cannot read config file (${err instanceof FileReadError ? err.reason : 'unreadable'})`], file);
  }
  return parseConfigFile(text, env, file);
}

export function loadConfigFile(file: string, env: Env): Readonly<GatewayConfig> {
  return readConfigFile(file, env).config;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
