// Golden CLI output: the built binary, colour off, stdout + stderr + exit code pinned byte for
// byte. Regenerate after an intended change with `UPDATE_GOLDEN=1 npm test`: the rewritten tests
// then fail (a golden test must never pass by comparing a file with itself); review the diff and
// run again without it.
//
// Runs that compute use --engine reference: its plain double loops give the same digits on every
// x64 CPU, where the fast engine's last digits depend on the kernel build (fused multiply-add or
// not) and so on the CPU. What is pinned here is the rendering; the engines' numbers are held to
// PyTorch and to each other by tolerance elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cli } from '../helpers.js';

const CASES: Record<string, string[]> = {
  'run-mismatch': ['run', 'samples/mismatch.npz', 'samples/classic_batch_first.npz', '--no-color', '--engine', 'reference'],
  'run-bad-case': ['run', 'samples/no_bias.npz', 'test/fixtures/cases/two_grus.npz', '--no-color', '--engine', 'reference'],
  'diagnose-port': ['diagnose', 'test/fixtures/ports/port_base.npz', '--candidate', 'test/fixtures/ports/gate-order_zrn.npz', '--no-color', '--engine', 'reference'],
  'inspect-onnx': ['inspect', 'samples/onnx_lbr1.npz', '--no-color'],
  'markdown-mismatch': ['run', 'samples/mismatch.npz', '--format', 'markdown', '--engine', 'reference'],
};

/** The table output fitted to a terminal's width (COLUMNS here, as a CI log viewer would set it). */
const WIDTHS = [80, 100, 200];
const FITTED = ['diagnose', 'test/fixtures/diagnose/base_lengths.npz', '--candidate', 'test/fixtures/diagnose/pair_gate-order_zrn+h0-ignored.npz', '--no-color', '--engine', 'reference'];

const runs: [string, string[], Record<string, string>][] = [
  // COLUMNS unset (''): the width of a log or a pipe, 100.
  ...Object.entries(CASES).map(([name, args]): [string, string[], Record<string, string>] => [name, args, { COLUMNS: '' }]),
  ...WIDTHS.map((w): [string, string[], Record<string, string>] => [`diagnose-pair-${w}-columns`, FITTED, { COLUMNS: String(w) }]),
];

for (const [name, args, env] of runs) {
  const shown = Object.entries(env).filter(([, v]) => v !== '').map(([k, v]) => `${k}=${v} `).join('');
  test(`golden: ${shown}gru-check ${args.join(' ')}`, async () => {
    const r = await cli(args, env);
    if (env.COLUMNS) {
      const wide = r.stdout.split('\n').filter((l) => [...l].length > Number(env.COLUMNS));
      assert.deepEqual(wide, [], `lines wider than ${env.COLUMNS} columns`);
    }
    const got = `$ ${shown}gru-check ${args.join(' ')}\n--- exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
    const file = join(ROOT, 'test', 'golden', `${name}.txt`);
    if (process.env.UPDATE_GOLDEN) {
      writeFileSync(file, got);
      assert.fail(`${file} rewritten: review the diff (git diff test/golden) and run again without UPDATE_GOLDEN`);
    }
    assert.ok(existsSync(file), `${file} is missing: run UPDATE_GOLDEN=1 npm test once, review and commit it`);
    assert.equal(got, readFileSync(file, 'utf8'));
  });
}
