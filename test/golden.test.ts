// Golden CLI output: the built binary, colour off, stdout + stderr + exit code pinned byte for
// byte. Regenerate after an intended change with `UPDATE_GOLDEN=1 npm test` and review the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cli } from './helpers.js';

const CASES: Record<string, string[]> = {
  'run-mismatch': ['run', 'samples/mismatch.npz', 'samples/classic_batch_first.npz', '--no-color'],
  'run-bad-case': ['run', 'samples/no_bias.npz', 'test/fixtures/cases/two_grus.npz', '--no-color'],
  'diagnose-port': ['diagnose', 'test/fixtures/ports/port_base.npz', '--candidate', 'test/fixtures/ports/gate-order_zrn.npz', '--no-color'],
  'inspect-onnx': ['inspect', 'samples/onnx_lbr1.npz', '--no-color'],
  'markdown-mismatch': ['run', 'samples/mismatch.npz', '--format', 'markdown'],
};

for (const [name, args] of Object.entries(CASES)) {
  test(`golden: gru-check ${args.join(' ')}`, () => {
    const r = cli(args);
    const got = `$ gru-check ${args.join(' ')}\n--- exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
    const file = join(ROOT, 'test', 'golden', `${name}.txt`);
    if (process.env.UPDATE_GOLDEN) writeFileSync(file, got);
    assert.ok(existsSync(file), `${file} is missing: run UPDATE_GOLDEN=1 npm test once and commit it`);
    assert.equal(got, readFileSync(file, 'utf8'));
  });
}
