// One YAML file of the config: parsed with positions, so a problem can name file:line:column.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { originalOffset, protect, type Protected } from './substitute.js';

/** Where a problem is: a file, and a line and column when the parser knows them. */
export interface Place {
  file: string;
  line?: number;
  col?: number;
}

export const placeText = (p: Place) => (p.line ? `${p.file}:${p.line}:${p.col}` : p.file);

export interface YamlSource {
  file: string;
  protected: Protected;
  doc: Document.Parsed;
  lines: LineCounter;
  /** Each alias's anchored node, found in one pass when a problem first needs it (yaml's resolve walks the whole document per alias). */
  aliases?: Map<Node, Node | undefined>;
}

// yaml counts an alias of a plain mapping as 1 and multiplies nested ones: every district
// of a large file may merge one anchor (`<<: *base`), while a few nested levels of aliases
// (billion laughs) pass this product quickly. The copies the loader then makes are bounded
// separately (substitute's budget), since a wide anchor aliased often stays under this count.
export const MAX_ALIAS_COUNT = 20_000;

export interface ParsedYaml {
  source: YamlSource;
  /** The syntax errors, each placed. */
  errors: Array<{ at: Place; message: string }>;
}

export function parseYamlSource(text: string, file: string): ParsedYaml {
  const p = protect(text);
  // Lines of the file as written: the parser reads the protected text, whose placeholders
  // are not as long as the references they stand for, so offsets are mapped back first.
  const lines = new LineCounter();
  lines.addNewLine(0);
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
  // YAML 1.1 merge keys (`<<: *base`) let districts share settings through anchors.
  const doc = parseDocument(p.text, { uniqueKeys: true, prettyErrors: false, merge: true });
  const source: YamlSource = { file, protected: p, doc, lines, };
  // The first line of yaml's message: the rest quotes the file's text, which may hold a secret.
  const errors = doc.errors.map((e) => ({ at: placeAt(source, e.pos[0]), message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '') }));
  return { source, errors };
}

/** The document as plain data; throws yaml's ReferenceError for a bad alias or an alias bomb. */
export function toData(source: YamlSource): unknown {
  return source.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
}

export function placeAt(source: YamlSource, offset: number): Place {
  const { line, col } = source.lines.linePos(originalOffset(source.protected, offset));
  return { file: source.file, line, col };
}

const isMergeKey = (k: unknown) => isScalar(k) && (k.value === '<<' || (typeof k.value === 'symbol' && k.value.description === '<<'));

function resolved(source: YamlSource, node: Node): Node | undefined {
  if (!isAlias(node)) return node;
  if (!source.aliases) {
    // An alias refers to the last node with its anchor before it, in document order (as yaml resolves it).
    const aliases = new Map<Node, Node | undefined>();
    const anchored = new Map<string, Node>();
    visit(source.doc, {
      Node: (_key, n) => {
        if (isAlias(n)) aliases.set(n, anchored.get(n.source));
        else if (n.anchor) anchored.set(n.anchor, n);
      },
    });
    source.aliases = aliases;
  }
  return source.aliases.get(node);
}

/** The node for `key` in a mapping, looking through merge keys (the mapping's own keys win). */
function entry(source: YamlSource, map: Node, key: PropertyKey, depth = 0): Node | undefined {
  if (!isMap(map) || depth > 8) return undefined;
  const merges: Node[] = [];
  for (const pair of map.items) {
    if (isMergeKey(pair.key)) merges.push(pair.value as Node);
    else if (isScalar(pair.key) && String(pair.key.value) === String(key)) return (pair.value as Node | null) ?? (pair.key as Node);
  }
  for (const m of merges) {
    for (const item of isSeq(m) ? (m.items as Node[]) : [m]) {
      const target = item && resolved(source, item);
      const found = target && entry(source, target, key, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** The place of the deepest node of `path` the file spells out (an ancestor when the value is missing). */
export function placeOf(source: YamlSource, path: readonly PropertyKey[]): Place {
  let node = source.doc.contents as Node | null;
  let found = node;
  for (const key of path) {
    if (!node) break;
    node = resolved(source, node) ?? null;
    let next: Node | undefined;
    if (node && isMap(node)) next = entry(source, node, key);
    else if (node && isSeq(node) && typeof key === 'number') next = node.items[key] as Node | undefined;
    if (!next) break;
    node = found = next;
  }
  return found?.range ? placeAt(source, found.range[0]) : { file: source.file, line: 1, col: 1 };
}
