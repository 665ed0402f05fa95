// The files a config is read from: the main file and the districtsDir files, each parsed with
// positions and substituted, their problems placed in the file they come from.
import { basename, join, resolve } from 'node:path';
import { FileReadError, listYamlFiles, readBounded } from './files.js';
import { formatPath, problemLine } from './problems.js';
import { ExpansionError, isMapping, substitute, type FileRefs, type RawProblem } from './substitute.js';
import { parseYamlSource, placeOf, toData, type YamlSource } from './yaml-source.js';

type Env = Readonly<Record<string, string | undefined>>;

export const MAX_DISTRICT_FILES = 10_000;
/** One district written out is a few KiB; this leaves room for long comments and many overrides. */
export const MAX_DISTRICT_FILE_BYTES = 256 * 1024;
/** All the files of the directory together. */
export const MAX_DISTRICTS_DIR_BYTES = 64 * 1024 * 1024;
/** Values a config may expand to, aliases copied included (10,000 districts of ~100 values each, twice over). */
export const MAX_VALUES = 2_000_000;

/** What every file of one load shares: the environment, problems found so far, the values budget. */
export interface ReadContext {
  env: Env;
  /** Placed problem lines: syntax errors, unreadable files. */
  lines: string[];
  /** Problems at paths of the whole config tree (placed by the caller, which knows every file). */
  problems: RawProblem[];
  budget: { left: number };
  files: FileRefs;
}

/**
 * A YAML file's data, substituted; undefined (with its problems in `ctx.lines`) when it does
 * not parse. `at` is where its data sits in the whole config tree (a districtsDir file: its district).
 */
export function readYaml(
  text: string,
  file: string,
  at: PropertyKey[],
  ctx: ReadContext,
  notMapping = 'must be a mapping',
): { source: YamlSource; data: Record<string, unknown> } | undefined {
  const { source, errors } = parseYamlSource(text, file);
  if (errors.length > 0) {
    // YAML errors carry line/column, not values.
    ctx.lines.push(...errors.map((e) => problemLine(e.at, 'YAML', e.message)));
    return undefined;
  }
  let raw: unknown;
  try {
    raw = toData(source) ?? {};
  } catch (err) {
    // An alias to no anchor, or aliases expanding past maxAliasCount, fail only here.
    ctx.lines.push(problemLine(placeOf(source, []), 'YAML', String((err as Error).message).split('\n')[0]!));
    return undefined;
  }
  if (!isMapping(raw)) {
    ctx.lines.push(problemLine(placeOf(source, []), formatPath(at), notMapping));
    return undefined;
  }
  try {
    const baseDir = resolve(file, '..');
    return { source, data: substitute(raw, source.protected, { env: ctx.env, baseDir, problems: ctx.problems, budget: ctx.budget, files: ctx.files }, at) as Record<string, unknown> };
  } catch (err) {
    if (!(err instanceof ExpansionError)) throw err;
    ctx.lines.push(problemLine(placeOf(source, []), 'YAML', `${err.message} (more than ${MAX_VALUES}): refused`));
    return undefined;
  }
}

export interface DirDistrict {
  file: string;
  source: YamlSource;
  data: unknown;
}

/**
 * The districts of `districtsDir`, one per file in file-name order, each at its index in the
 * whole list (after the `first` districts of the main file).
 */
export function readDistrictsDir(value: unknown, baseDir: string, first: number, ctx: ReadContext): DirDistrict[] {
  if (typeof value !== 'string' || value.trim() === '') {
    ctx.problems.push({ path: ['districtsDir'], message: 'must be a directory path (relative to the config file)' });
    return [];
  }
  const dir = resolve(baseDir, value.trim());
  let names: string[];
  try {
    names = listYamlFiles(dir, MAX_DISTRICT_FILES);
  } catch (err) {
    ctx.problems.push({ path: ['districtsDir'], message: `cannot read directory ${dir} (${(err as FileReadError).reason})` });
    return [];
  }
  const out: DirDistrict[] = [];
  let bytes = 0;
  for (const name of names) {
    const file = join(dir, name);
    let text: string;
    try {
      text = readBounded(file, MAX_DISTRICT_FILE_BYTES);
    } catch (err) {
      ctx.lines.push(problemLine({ file }, undefined, `cannot read district file (${err instanceof FileReadError ? err.reason : 'unreadable'})`));
      continue;
    }
    if ((bytes += text.length) > MAX_DISTRICTS_DIR_BYTES) {
      ctx.problems.push({ path: ['districtsDir'], message: `${dir} holds more than ${MAX_DISTRICTS_DIR_BYTES} bytes of districts` });
      break;
    }
    const at = ['districts', first + out.length];
    const read = readYaml(text, file, at, ctx, `${basename(file)} must hold one district (a mapping, as one entry of districts:)`);
    if (read) out.push({ file, ...read });
  }
  return out;
}
