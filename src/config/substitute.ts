// ${VAR}, ${VAR:-default}, ${file:PATH} and $$ in config values.
import { resolve } from 'node:path';
import { FileReadError, readBounded } from './files.js';

type Env = Readonly<Record<string, string | undefined>>;

const REF = /\$\$|\$\{file:([^}\n]+)\}|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}\n]*))?\}/g;

/** A secret file (a Docker or Kubernetes secret) holds a token or a key, not a document. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;
/**
 * Bytes substituted from files in one load, each reference counted every time it is copied:
 * an anchor holding a reference, aliased thousands of times, would otherwise expand to gigabytes.
 */
export const MAX_FILE_REF_BYTES = 16 * 1024 * 1024;

/** One load's ${file:...} reads: each path read once (a reload is a new load, so rotated secrets are seen). */
export interface FileRefs {
  read: Map<string, { text: string } | { reason: string }>;
  bytes: number;
}

export const newFileRefs = (): FileRefs => ({ read: new Map(), bytes: 0 });

type Reference = ({ literal: string } | { name: string; fallback: string | undefined } | { file: string }) & { source: string };

/** A problem found while substituting, at a path of the config tree. */
export interface RawProblem {
  path: PropertyKey[];
  message: string;
}

// References are swapped for an inert placeholder before YAML parsing, because `{ key: ${VAR} }`
// in a flow map is not valid YAML, and put back afterwards in each string scalar, so a
// value can never inject YAML structure and a missing variable is reported by field.
export interface Protected {
  text: string;
  refs: Reference[];
  /** Matches the placeholders; its tag is absent from the file, so the file cannot forge one. */
  placeholder: RegExp;
  /** Where each placeholder starts in `text`, and how much longer it is than its reference (for positions). */
  shifts: Array<{ at: number; delta: number }>;
}

export function protect(text: string): Protected {
  let tag = 'ORGW_ENV';
  while (text.includes(tag)) tag += 'X';
  const refs: Reference[] = [];
  const shifts: Protected['shifts'] = [];
  let delta = 0;
  const out = text.replace(REF, (whole: string, file: string | undefined, name: string | undefined, fallback: string | undefined, offset: number) => {
    refs.push(whole === '$$' ? { literal: '$', source: whole } : file !== undefined ? { file, source: whole } : { name: name!, fallback, source: whole });
    const placeholder = `__${tag}_${refs.length - 1}__`;
    shifts.push({ at: offset + delta, delta: placeholder.length - whole.length });
    delta += placeholder.length - whole.length;
    return placeholder;
  });
  return { text: out, refs, placeholder: new RegExp(`__${tag}_(\\d+)__`, 'g'), shifts };
}

/** The offset in the file's own text of an offset in the protected text. */
export function originalOffset(p: Protected, offset: number): number {
  let back = 0;
  for (const s of p.shifts) if (s.at < offset) back += s.delta;
  return offset - back;
}

/** A YAML mapping; `!!binary`, `!!timestamp`, `!!set` and `!!omap` give other objects, left to the schema to refuse by path. */
export function isMapping(node: unknown): node is Record<string, unknown> {
  return !!node && typeof node === 'object' && Object.getPrototypeOf(node) === Object.prototype;
}

/** Refused when aliases expand a small file into more values than this (a "billion laughs"). */
export class ExpansionError extends Error {
  override readonly name = 'ExpansionError';
}

export interface SubstituteContext {
  env: Env;
  /** Where a relative ${file:...} path starts: the directory of the file that holds it. */
  baseDir: string;
  problems: RawProblem[];
  /** Values left to visit; aliases copied by the walk count each time they are copied. */
  budget: { left: number };
  files: FileRefs;
}

function readFileRef(file: string, refs: FileRefs) {
  let got = refs.read.get(file);
  if (!got) {
    try {
      // One trailing newline is what `echo secret > file` adds; it is never part of the secret.
      got = { text: readBounded(file, MAX_SECRET_FILE_BYTES).replace(/\r?\n$/, '') };
    } catch (err) {
      got = { reason: err instanceof FileReadError ? err.reason : 'unreadable' };
    }
    refs.read.set(file, got);
  }
  return got;
}

function resolveRef(ref: Reference, ctx: SubstituteContext, path: PropertyKey[]): string {
  if ('literal' in ref) return ref.literal;
  if ('file' in ref) {
    const file = resolve(ctx.baseDir, ref.file.trim());
    // Past the cap every later reference is empty: the load fails with one problem, found quickly.
    if (ctx.files.bytes > MAX_FILE_REF_BYTES) return '';
    const got = readFileRef(file, ctx.files);
    if ('reason' in got) {
      ctx.problems.push({ path, message: `cannot read file ${file} (${got.reason})` });
      return '';
    }
    if ((ctx.files.bytes += got.text.length) > MAX_FILE_REF_BYTES) {
      ctx.problems.push({ path, message: `files substituted into the config pass ${MAX_FILE_REF_BYTES} bytes: refused` });
      return '';
    }
    return got.text;
  }
  const value = ctx.env[ref.name];
  if (value !== undefined && value !== '') return value;
  if (ref.fallback !== undefined) return ref.fallback;
  ctx.problems.push({ path, message: `environment variable ${ref.name} is not set` });
  return '';
}

export function substitute(node: unknown, p: Protected, ctx: SubstituteContext, path: PropertyKey[]): unknown {
  if (--ctx.budget.left < 0) throw new ExpansionError('the document expands (through aliases) to too many values');
  if (typeof node === 'string') {
    return node.replace(p.placeholder, (whole: string, i: string) => {
      const ref = p.refs[Number(i)];
      // Spelled with YAML escapes in the file: its own text.
      return ref ? resolveRef(ref, ctx, path) : whole;
    });
  }
  if (Array.isArray(node)) return node.map((v, i) => substitute(v, p, ctx, [...path, i]));
  if (isMapping(node)) {
    // fromEntries defines each key, so a `__proto__` key stays a key (refused as unknown)
    // instead of becoming the object's prototype and lending it fields the file never set.
    // Keys are not substituted; they get their text back so messages name what the file says.
    return Object.fromEntries(
      Object.entries(node).map(([raw, v]) => {
        const k = raw.replace(p.placeholder, (whole: string, i: string) => p.refs[Number(i)]?.source ?? whole);
        return [k, substitute(v, p, ctx, [...path, k])];
      }),
    );
  }
  return node;
}
