// Configuration problems as operators read them: `file:line:col: path: message`, districts
// and clients named by their id rather than their index, never a value.
import { isMapping } from './substitute.js';
import { placeText, type Place } from './yaml-source.js';

/** A configuration problem; `issues` are `[file:line:col: ]path: message` lines that never contain a value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly issues: string[],
    readonly source: string,
  ) {
    super(`invalid configuration in ${source}:\n  ${issues.join('\n  ')}`);
  }
}

export function problemLine(at: Place | undefined, path: string | undefined, message: string): string {
  return [at ? placeText(at) : '', path ?? '', message].filter((s) => s !== '').join(': ');
}

/** `districts[2].auth.tokenUrl` from a zod/walk path. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

// Lists whose entries carry an id: with 300 districts, `districts[212]` sends the operator
// counting; `districts[lincoln-high]` is found with a search.
const ID_FIELDS: Array<{ list: string[]; field: string }> = [
  { list: ['districts'], field: 'id' },
  { list: ['sandboxes'], field: 'id' },
  { list: ['auth', 'clients'], field: 'clientId' },
];
// What can stand between brackets unquoted; anything else (empty, spaces, brackets) keeps its index.
const SHOWABLE_ID = /^[A-Za-z0-9][\w.@:-]{0,127}$/;

/** formatPath with a list entry named by its id when it has a showable one: `districts[demo-2].auth`. */
export function displayPath(path: ReadonlyArray<PropertyKey>, tree: unknown): string {
  let out = '';
  path.forEach((p, i) => {
    if (typeof p !== 'number') {
      out += out ? `.${String(p)}` : String(p);
      return;
    }
    const list = ID_FIELDS.find((l) => l.list.length === i && l.list.every((k, j) => path[j] === k));
    const entry = list ? (valueAt(tree, path.slice(0, i)) as unknown[] | undefined)?.[p] : undefined;
    const id = list && isMapping(entry) ? entry[list.field] : undefined;
    out += `[${typeof id === 'string' && SHOWABLE_ID.test(id) ? id : p}]`;
  });
  return out || '(root)';
}

export function valueAt(tree: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v = tree;
  for (const p of path) {
    if (Array.isArray(v) && typeof p === 'number') v = v[p];
    else if (isMapping(v) && typeof p === 'string' && Object.hasOwn(v, p)) v = v[p];
    else return undefined;
  }
  return v;
}
