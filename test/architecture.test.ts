// The map holds: src/'s import graph has no circles and every import points down the layers that
// docs/architecture.md describes (LAYERS below is that list), and every src/ path the page names
// exists. Imports are read from the source text, `import type` and re-exports included, since a
// type-only circle knots the code as much as a run-time one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT, sourceFiles as sources } from './helpers.js';

const SRC = join(ROOT, 'src');

/**
 * Lowest first. A file may import from its own layer and the ones below. A path ending in `/` is a
 * folder; the longest match places a file (io/text.ts sits in base beside errors.ts, which uses it
 * to show names from files).
 */
export const LAYERS: readonly (readonly [string, readonly string[]])[] = [
  ['base', ['result.ts', 'errors.ts', 'clock.ts', 'io/text.ts']],
  ['io', ['io/']],
  ['wasm', ['wasm/']],
  ['model', ['model/']],
  ['gru', ['gru/']],
  ['engine', ['engine/']],
  ['candidate', ['candidate/']],
  ['compare', ['compare/']],
  ['outcome', ['summary.ts', 'baseline.ts']],
  ['check', ['check.ts', 'inspect.ts']],
  ['diagnose', ['diagnose/']],
  ['options', ['options.ts', 'options-check.ts', 'suite/']],
  ['report', ['report/']],
  ['cli', ['cli/', 'index.ts']],
];


const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]*?\s+from\s+)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** src-relative file -> the src-relative files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    const to = new Set<string>();
    for (const m of text.matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2])!;
      to.add(relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts'));
    }
    graph.set(relative(SRC, file), [...to]);
  }
  return graph;
}

function layerOf(file: string): number | undefined {
  let best: [number, string] | undefined;
  for (const [i, [, paths]] of LAYERS.entries()) {
    for (const p of paths) {
      const hit = p.endsWith('/') ? file.startsWith(p) : file === p;
      if (hit && (!best || p.length > best[1].length)) best = [i, p];
    }
  }
  return best?.[0];
}

/** Strongly connected components with more than one file (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const part: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      part.push(w);
    } while (w !== v);
    if (part.length > 1 || graph.get(v)!.includes(v)) found.push(part.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('the import graph: every relative import names a file of src/', () => {
  const graph = importGraph();
  const missing = [...graph].flatMap(([f, to]) => to.filter((t) => !graph.has(t)).map((t) => `${f} -> ${t}`));
  assert.deepEqual(missing, []);
});

test('the import graph has no circles (type-only imports included)', () => {
  assert.deepEqual(circles(importGraph()), []);
});

test('every import points to the same layer or a lower one (docs/architecture.md)', () => {
  const graph = importGraph();
  const unplaced = [...graph.keys()].filter((f) => layerOf(f) === undefined);
  assert.deepEqual(unplaced, [], 'a file in no layer: add its folder to LAYERS and to docs/architecture.md');
  const upward = [...graph].flatMap(([f, to]) =>
    to.filter((t) => layerOf(t)! > layerOf(f)!).map((t) => `${f} (${LAYERS[layerOf(f)!]![0]}) -> ${t} (${LAYERS[layerOf(t)!]![0]})`));
  assert.deepEqual(upward, []);
});

test('result.ts, the result contract, is types only and imports nothing', () => {
  const text = readFileSync(join(SRC, 'result.ts'), 'utf8');
  assert.deepEqual(importGraph().get('result.ts'), []);
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const statements = code.match(/^export\s+(\w+)/gm) ?? [];
  assert.deepEqual(statements.filter((s) => !/export\s+(interface|type)$/.test(s)), []);
});

test('docs/architecture.md lists the layers this test holds the graph to, in order', () => {
  const page = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const listed = [...page.matchAll(/^\d+\. \*\*(\w+)\*\*/gm)].map((m) => m[1]);
  assert.deepEqual(listed, LAYERS.map(([name]) => name));
});

test('every src/, test/, wasm/, bench/, schema/ and bin/ path docs/architecture.md names exists', () => {
  const page = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const paths = [...page.matchAll(/`((?:src|test|wasm|bench|schema|bin|samples|docs)\/[^`\s]*)`/g)].map((m) => m[1]!);
  assert.ok(paths.length > 40, `only ${paths.length} paths found: the pattern no longer matches the page`);
  // A glob (`test/*.test.ts`) names a pattern, not a file.
  assert.deepEqual(paths.filter((p) => !p.includes('*') && !existsSync(join(ROOT, p.replace(/\/$/, '')))), []);
});
