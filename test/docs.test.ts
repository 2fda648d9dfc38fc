// Every command the docs show runs, and prints what the docs say it prints (test/docs/blocks.ts):
// an output that changes fails here until `npm run docs` rewrites the page and the diff is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, cli } from './helpers.js';
import { commands, consoleBlocks, docFiles, needsOrt, regenerate } from './docs/blocks.js';
import { closeFastEngine } from '../src/engine/fast.js';

test.after(() => closeFastEngine());

/** onnxruntime-node is optional: a block that runs a model in it is skipped where it is not installed. */
const ortInstalled = ((): boolean => {
  try {
    createRequire(import.meta.url).resolve('onnxruntime-node');
    return true;
  } catch {
    return false;
  }
})();

for (const file of docFiles()) {
  for (const b of consoleBlocks(file)) {
    const skip = !ortInstalled && commands(b.body).some(needsOrt) ? 'runs an ONNX model: onnxruntime-node is not installed here' : false;
    test(`${file}:${b.line}: ${b.body.split('\n')[0]}`, { skip }, async () => {
      assert.equal(await regenerate(b.body), b.body, `${file}:${b.line} is out of date: run npm run docs and review the diff`);
    });
  }
}

test('the docs show at least one command in a console block', () => {
  assert.ok(docFiles().some((f) => consoleBlocks(f).length > 0));
});

test('every relative link of the docs names a file that exists', () => {
  const missing: string[] = [];
  for (const file of docFiles()) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      if (!existsSync(join(ROOT, dirname(file), target))) missing.push(`${file}: ${target}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('every flag of every command\'s --help is in docs/cli.md, and docs/cli.md names no flag the CLI lacks', async () => {
  const help = (await Promise.all([[], ['run'], ['diagnose'], ['inspect']].map((c) => cli([...c, '--help'])))).map((r) => r.stdout).join('\n');
  const flags = new Set([...help.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]!));
  const table = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
  const documented = new Set([...table.matchAll(/`(--[a-z-]+)/g)].map((m) => m[1]!));
  assert.deepEqual([...flags].filter((f) => !documented.has(f)), [], 'in --help, not in docs/cli.md');
  assert.deepEqual([...documented].filter((f) => !flags.has(f)), [], 'in docs/cli.md, not in any --help');
});
