// `defaults:` — the per-district sections every district shares unless it says otherwise,
// merged into each district before validation, so each district is checked as written out whole.
import type { RawProblem } from './substitute.js';
import { isMapping } from './substitute.js';

/** The district sections a `defaults:` block may hold. */
export const DEFAULT_SECTIONS = ['upstream', 'cache', 'mirror'] as const;

export type Defaults = Record<string, unknown>;

/** The block's own shape; what lies inside a section is checked in each district it merges into. */
export function checkDefaults(value: unknown, problems: RawProblem[]): Defaults | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isMapping(value)) {
    problems.push({ path: ['defaults'], message: `must be a mapping of ${DEFAULT_SECTIONS.join(', ')}` });
    return undefined;
  }
  // Merged into every district: a block of thousands of values would be copied thousands of times.
  if (countValues(value, MAX_DEFAULT_VALUES) > MAX_DEFAULT_VALUES) {
    problems.push({ path: ['defaults'], message: `holds more than ${MAX_DEFAULT_VALUES} values` });
    return undefined;
  }
  let ok = true;
  for (const [k, v] of Object.entries(value)) {
    if (!(DEFAULT_SECTIONS as readonly string[]).includes(k)) {
      problems.push({ path: ['defaults', k], message: `unknown key (a default is one of ${DEFAULT_SECTIONS.join(', ')})` });
      ok = false;
    } else if (!isMapping(v) && !(k === 'mirror' && isFlag(v))) {
      problems.push({ path: ['defaults', k], message: k === 'mirror' ? 'must be true, false or a mapping' : 'must be a mapping' });
      ok = false;
    }
  }
  return ok ? value : undefined;
}

const MAX_DEFAULT_VALUES = 1_000;

function countValues(v: unknown, stop: number, n = 0): number {
  if (n > stop) return n;
  const children = Array.isArray(v) ? v : isMapping(v) ? Object.values(v) : [];
  return children.reduce<number>((sum, c) => countValues(c, stop, sum), n + 1);
}

const isFlag = (v: unknown) => v === true || v === false || v === 'true' || v === 'false';
const flag = (v: unknown) => (isFlag(v) ? { enabled: v === true || v === 'true' } : v);

/** A mapping built from entries, so a `__proto__` key stays a key. */
function merge(base: unknown, own: unknown): unknown {
  if (own === undefined) return base;
  if (!isMapping(base) || !isMapping(own)) return own;
  const keys = new Set([...Object.keys(base), ...Object.keys(own)]);
  return Object.fromEntries([...keys].map((k) => [k, Object.hasOwn(own, k) ? merge(Object.hasOwn(base, k) ? base[k] : undefined, own[k]) : base[k]]));
}

/**
 * The district as validated: its own values win, mappings merge key by key, lists and scalars
 * are replaced whole. `mirror: true/false` counts as `{ enabled }`, so a district can switch a
 * defaulted mirror on or off; a `defaults.mirror` that does not say `enabled` only tunes the
 * districts that mirror, it switches none on.
 */
export function withDefaults(district: unknown, defaults: Defaults | undefined): unknown {
  if (!defaults || !isMapping(district)) return district;
  return merge(normalizedDefaults(defaults), ownSections(district, defaults));
}

/** The district with its `mirror` in the form the merge needs (what `fromDefaults` compares against). */
export function ownSections(district: Record<string, unknown>, defaults: Defaults): Record<string, unknown> {
  if (defaults.mirror === undefined) return district;
  const base = flag(defaults.mirror);
  const own = district.mirror === undefined ? (isMapping(base) && Object.hasOwn(base, 'enabled') ? undefined : { enabled: false }) : flag(district.mirror);
  const out = Object.fromEntries(Object.entries(district).filter(([k]) => k !== 'mirror'));
  return own === undefined ? out : Object.fromEntries([...Object.entries(out), ['mirror', own]]);
}

export const normalizedDefaults = (defaults: Defaults): Defaults =>
  defaults.mirror === undefined ? defaults : Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, k === 'mirror' ? flag(v) : v]));

/**
 * Whether the value at `path` (inside one district) came from the defaults: the district does
 * not spell out that far, and the defaults do.
 */
export function fromDefaults(own: unknown, defaults: Defaults | undefined, path: readonly PropertyKey[]): boolean {
  if (!defaults || !(DEFAULT_SECTIONS as readonly PropertyKey[]).includes(path[0]!)) return false;
  let o = own;
  let d: unknown = defaults;
  for (const key of path) {
    if (typeof key !== 'string') return false;
    const ownHas = isMapping(o) && Object.hasOwn(o, key);
    const defHas = isMapping(d) && Object.hasOwn(d, key);
    if (!ownHas) return defHas;
    o = (o as Record<string, unknown>)[key];
    d = defHas ? (d as Record<string, unknown>)[key] : undefined;
  }
  return false;
}
