// A port's outputs in the layouts ports write, and the mistakes users make, as real PyTorch dumps
// (test/fixtures/candidates/, made by make_candidate_fixtures.py): every command in the manifest
// gives the exit code it lists (0 pass, 1 fail, 2 refused with one line saying what to do), run
// through the CLI's own entry in-process (the golden and CLI tests cover the spawned binary).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { closeFastEngine } from '../../src/engine/fast.js';
import { ROOT } from '../helpers.js';

const DIR = join(ROOT, 'test', 'fixtures', 'candidates');
interface Run {
  argv: string[];
  expect: 'pass' | 'fail' | 'exit2';
}
interface Entry extends Partial<Run> {
  file: string;
  kind: string;
  layout: string;
  runs?: Run[];
}
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { files: Entry[] };
const CODE = { pass: 0, fail: 1, exit2: 2 } as const;

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const abs = argv.map((a) => (/\.(npz|npy|pt|pth|safetensors|onnx)$/.test(a) ? join(DIR, a) : a));
  const code = await main([...abs, '--format', 'json'], { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: { NO_COLOR: '1', COLUMNS: '1000' } });
  return { code, stdout, stderr };
}

test.after(() => closeFastEngine());

for (const e of manifest.files) {
  const runs = [...(e.argv && e.expect ? [{ argv: e.argv, expect: e.expect }] : []), ...(e.runs ?? [])];
  if (runs.length === 0) continue;
  test(`${e.file} (${e.layout})`, async () => {
    for (const r of runs) {
      const got = await cli(r.argv);
      const what = `gru-check ${r.argv.join(' ')}: ${got.stderr.trim()}`;
      assert.equal(got.code, CODE[r.expect], what);
      if (r.expect === 'exit2') {
        // one line, saying what to do
        assert.equal(got.stderr.trim().split('\n').length, 1, what);
        assert.match(got.stderr, /\(.+\)\n$/, `${what}: a hint in parentheses`);
      } else {
        const doc = JSON.parse(got.stdout) as { cases: { candidateLayout?: string }[] };
        if (r.argv.includes('--candidate')) assert.ok(doc.cases[0]!.candidateLayout, `${what}: says how the candidate was read`);
      }
    }
  });
}

test('a float16 candidate is judged at float16 tolerances, and the JSON says which were used', async () => {
  const ok = await cli(['run', 'base_bf.npz', '--candidate', 'bf_cand_f16.npz']);
  assert.equal(ok.code, 0);
  const c = JSON.parse(ok.stdout).cases[0];
  assert.equal(c.candidateDtype, 'float16');
  const k = c.checks.find((x: { subject: string; tensor: string }) => x.subject === 'candidate' && x.tensor === 'output');
  assert.equal(k.rtol, 1e-3);
  assert.equal(k.atol, 1e-5);
  // the same values at float32's tolerances fail
  const strict = await cli(['run', 'base_bf.npz', '--candidate', 'bf_cand_f16.npz', '--rtol', '1.3e-6']);
  assert.equal(strict.code, 1);
});

test('final states of the last layer only are compared with the last layer of h_n, and said so', async () => {
  const r = await cli(['run', 'base_bf.npz', '--candidate', 'bf_cand_onnx_y_last_node.npz']);
  assert.equal(r.code, 0);
  const c = JSON.parse(r.stdout).cases[0];
  assert.equal(c.candidateStates, 'last layer');
  const hn = c.checks.filter((k: { subject: string; tensor: string }) => k.subject === 'candidate' && k.tensor === 'h_n');
  assert.equal(hn.length, 2);
  for (const k of hn) {
    assert.equal(k.part, 'last layer');
    assert.deepEqual(k.shape, [2, 3, 6]);
  }
});
