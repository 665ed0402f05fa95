import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The shape rules of ../shared/STYLE.md that a reader feels first: no import circle (type-only
// and dynamic imports count: a circle of types is still a circle of understanding), small files,
// and functions that fit on a screen. Read with the TypeScript parser, not regular expressions.
const SRC = resolve('src');
const MAX_FILE_LINES = 300;
const MAX_FUNCTION_LINES = 80;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const parsed = files(SRC).map((file) => ({ file, source: ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true) }));

/** Every module a file refers to: import and export ... from (type-only too), and import('...'). */
function specifiers(source: ts.SourceFile): string[] {
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) out.push(node.moduleSpecifier.text);
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) out.push(node.arguments[0].text);
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) out.push(node.argument.literal.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const graph = new Map(
  parsed.map(({ file, source }) => [
    relative(SRC, file),
    specifiers(source)
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(SRC, resolve(dirname(file), s)).replace(/\.js$/, '.ts')),
  ]),
);

/** The strongly connected parts of the import graph with more than one file (Tarjan). */
function circles(): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string): void => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indices.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const part: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        part.push(w);
      } while (w !== v);
      if (part.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(part.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) connect(v);
  return found;
}

const isFunction = (n: ts.Node): n is ts.FunctionLikeDeclaration =>
  ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n) || ts.isGetAccessor(n) || ts.isSetAccessor(n) || ts.isConstructorDeclaration(n);

/** Each function's own lines: its span less the spans of the functions nested in it (measured on their own). */
function functionLengths(source: ts.SourceFile): Array<{ at: string; lines: number }> {
  const out: Array<{ at: string; lines: number }> = [];
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;
  const span = (n: ts.Node) => lineOf(n.getEnd()) - lineOf(n.getStart(source)) + 1;
  const measure = (fn: ts.FunctionLikeDeclaration): void => {
    let nested = 0;
    const inner = (n: ts.Node): void => {
      if (isFunction(n)) {
        nested += span(n);
        measure(n);
        return;
      }
      ts.forEachChild(n, inner);
    };
    if (fn.body) ts.forEachChild(fn.body, inner);
    const name = fn.name && ts.isIdentifier(fn.name) ? fn.name.text : '(anonymous)';
    out.push({ at: `${relative(SRC, source.fileName)}:${lineOf(fn.getStart(source)) + 1} ${name}`, lines: span(fn) - nested });
  };
  const top = (n: ts.Node): void => {
    if (isFunction(n)) return measure(n);
    ts.forEachChild(n, top);
  };
  top(source);
  return out;
}

describe('the shape of src/', () => {
  it('has no import circle (type-only and dynamic imports included)', () => {
    expect(circles()).toEqual([]);
  });

  it(`has no file over ${MAX_FILE_LINES} lines`, () => {
    const long = parsed.map(({ file, source }) => ({ file: relative(SRC, file), lines: source.getLineAndCharacterOfPosition(source.getEnd()).line + 1 })).filter((f) => f.lines > MAX_FILE_LINES);
    expect(long).toEqual([]);
  });

  it(`has no function over ${MAX_FUNCTION_LINES} lines of its own`, () => {
    const long = parsed.flatMap(({ source }) => functionLengths(source)).filter((f) => f.lines > MAX_FUNCTION_LINES);
    expect(long).toEqual([]);
  });

  it('keeps the sandbox out of the composition root', () => {
    expect((graph.get('gateway.ts') ?? []).filter((t) => t.startsWith('sandbox/'))).toEqual([]);
  });

  it("keeps the sandbox's test-only parts (ClassLink fake, fault injection) out of the production build", () => {
    const config = ts.readConfigFile(resolve('tsconfig.build.json'), (p) => ts.sys.readFile(p)).config as { exclude?: string[] };
    const excluded = new Set((config.exclude ?? []).map((p) => relative(SRC, resolve(p))));
    expect([...excluded].sort()).toEqual(['sandbox/classlink.ts', 'sandbox/faults.ts', 'sandbox/testing.ts']);
    // tsc compiles whatever an included file imports, exclude or not: so nothing built may import them.
    const leaks = [...graph].filter(([file]) => !excluded.has(file)).flatMap(([file, targets]) => targets.filter((t) => excluded.has(t)).map((t) => `${file} -> ${t}`));
    expect(leaks).toEqual([]);
  });
});
