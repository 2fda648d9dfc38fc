// No function in src/ is over MAX_LINES lines, except the ones EXCEPTIONS names with a reason.
//
// The rule: every function-like node of every src/**/*.ts file — function declarations, methods,
// constructors, accessors, and arrow functions and function expressions wherever they stand
// (assigned, passed, returned) — is measured on its own as the node's line span: from the line of
// its first token (its doc comment is not counted) to the line of its closing brace, inclusive.
// A nested function counts on its own and also in the span of the function around it, so hiding
// a long body in an inner closure does not make the outer function shorter. The wasm kernels' text
// (wasm/*.wat) is not under src/ and is not measured; src/ holds no generated code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { ROOT, sourceFiles as sources } from './helpers.js';

const SRC = join(ROOT, 'src');
export const MAX_LINES = 80;

/**
 * `file name` -> why it stays longer than MAX_LINES. A function's name is its declared name, or
 * for an arrow function or function expression the variable, property or class member it is
 * assigned to (`<anonymous>` when passed as an argument, with the line it starts on).
 */
const EXCEPTIONS: ReadonlyMap<string, string> = new Map([
  ['model/onnx-fold.ts op',
    'the folder\'s dispatch: one case per ONNX op (Constant, Cast, Reshape, Transpose, Squeeze, ' +
    'Slice, Split, Concat, Gather, Shape, integer Add/Sub/Mul/Div), each case reading top to bottom ' +
    'as that op\'s entry in Operators.md, over helpers (input, attributes, axis, the error that ' +
    'names the node) that close over the one node; a function per op would need that context ' +
    'passed to each and would read the same, one jump further away'],
  ['io/pickle.ts run',
    'the unpickler loop: one case per pickle opcode, most of them one to five lines, the longer ' +
    'work already in methods (storage, reduce, global, memoPut); like CPython\'s load_* table, ' +
    'the whole opcode set a state_dict may use is visible in one place, which is what a reviewer ' +
    'of a restricted unpickler needs to see'],
]);


function nameOf(node: ts.Node, sf: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name && (ts.isIdentifier(named.name) || ts.isPrivateIdentifier(named.name) || ts.isStringLiteral(named.name))) {
    return named.name.text;
  }
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    && ts.isIdentifier(parent.name)) {
    return parent.name.text;
  }
  if (ts.isBinaryExpression(parent) && parent.right === node) return parent.left.getText(sf);
  return `<anonymous>:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}`;
}

/** Every function-like node of src/ with its line span, as `file name` keys. */
export function functionSpans(): { key: string; lines: number }[] {
  const found: { key: string; lines: number }[] = [];
  for (const file of sources(SRC)) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const rel = relative(SRC, file).split('\\').join('/');
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body !== undefined) {
        const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
        const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
        found.push({ key: `${rel} ${nameOf(node, sf)}`, lines: last - first + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found;
}

test(`no function in src/ is over ${MAX_LINES} lines, outside the listed exceptions`, () => {
  const spans = functionSpans();
  assert.ok(spans.length > 500, `only ${spans.length} functions found: the walk no longer sees src/`);
  const long = spans.filter((s) => s.lines > MAX_LINES && !EXCEPTIONS.has(s.key))
    .map((s) => `${s.lines} ${s.key}`);
  assert.deepEqual(long, [], 'split these into named functions that each do one thing, or list them in EXCEPTIONS with a reason');
});

test('every exception still names a function over the limit', () => {
  const spans = functionSpans();
  const stale = [...EXCEPTIONS.keys()].filter((k) => !spans.some((s) => s.key === k && s.lines > MAX_LINES));
  assert.deepEqual(stale, [], 'drop these from EXCEPTIONS: they are gone or now short enough');
});
