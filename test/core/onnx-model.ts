// An exported ONNX model as the weights (--weights model.onnx) and as the port (--onnx model.onnx),
// on real torch.onnx.export models and real PyTorch cases (test/fixtures/onnx-models/,
// make_onnx_models.py): the export passes, the same model with one weight changed by 0.05 fails
// both ways. --onnx needs ONNX Runtime, an optional dependency: where it is installed (CI installs
// it) the model runs; where it is not, --onnx is exit 2 naming `npm install onnxruntime-node`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { closeFastEngine } from '../../src/engine/fast.js';
import { ROOT } from '../helpers.js';

const DIR = join(ROOT, 'test', 'fixtures', 'onnx-models');
const f = (name: string): string => join(DIR, name);

let ortInstalled = true;
try {
  createRequire(import.meta.url).resolve('onnxruntime-node');
} catch {
  ortInstalled = false;
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: { NO_COLOR: '1', COLUMNS: '1000' } });
  return { code, stdout, stderr };
}

test.after(() => closeFastEngine());

test('--weights model.onnx: the exported stack (two GRU nodes, onnx::GRU_* weights) is the weights', async () => {
  const ok = await cli(['run', f('bidir2_bf.npz'), '--weights', f('bidir2_bf.onnx'), '--format', 'json']);
  assert.equal(ok.code, 0, ok.stderr);
  const c = JSON.parse(ok.stdout).cases[0];
  assert.equal(c.weightsFrom, 'ONNX nodes /GRU, /GRU_1');
  assert.equal(c.config.numLayers, 2);
  assert.equal(c.config.bidirectional, true);
  for (const k of c.checks) assert.ok(k.maxAbsError < 1e-6, `${k.tensor}: ${k.maxAbsError}`);
  const single = await cli(['run', f('uni1_sf.npz'), '--weights', f('uni1_sf.onnx')]);
  assert.equal(single.code, 0, single.stderr);
});

test('--weights model.onnx with one weight changed by 0.05: FAIL', async () => {
  const bad = await cli(['run', f('bidir2_bf.npz'), '--weights', f('bidir2_bf_tampered.onnx'), '--format', 'json']);
  assert.equal(bad.code, 1);
  const c = JSON.parse(bad.stdout).cases[0];
  assert.ok(c.checks.every((k: { pass: boolean }) => !k.pass));
});

test('several unrelated GRUs in one model: --node picks one, without it exit 2 listing them', async () => {
  const r = await cli(['run', f('uni1_sf.npz'), '--weights', f('two_grus.onnx')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /several GRUs in the ONNX model: \/enc\/GRU, \/dec\/GRU \(pick one with --node, e\.g\. --node \/enc\/GRU\)/);
  const wrong = await cli(['run', f('uni1_sf.npz'), '--weights', f('two_grus.onnx'), '--node', '/nope']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--node \/nope: no GRU node of that name/);
  // --node picks the GRU; /dec/GRU is GRU(3, 6), uni1_sf's input has 5 features: a clear refusal
  const picked = await cli(['run', f('uni1_sf.npz'), '--weights', f('two_grus.onnx'), '--node', '/dec/GRU']);
  assert.equal(picked.code, 2);
  assert.match(picked.stderr, /input: expected last dim 3/);
});

test('--onnx model.onnx runs the port in ONNX Runtime: the export passes, the tampered model fails', { skip: !ortInstalled && 'onnxruntime-node is not installed (an optional dependency; .ci/run installs it)' }, async () => {
  const ok = await cli(['run', f('bidir2_bf.npz'), '--onnx', f('bidir2_bf.onnx'), '--format', 'json']);
  assert.equal(ok.code, 0, ok.stderr);
  const c = JSON.parse(ok.stdout).cases[0];
  assert.equal(c.candidate, f('bidir2_bf.onnx'));
  assert.equal(c.candidateLayout, 'batch-first');
  assert.equal(c.checks.filter((k: { subject: string }) => k.subject === 'candidate').length, 4);
  const bad = await cli(['run', f('bidir2_bf.npz'), '--onnx', f('bidir2_bf_tampered.onnx')]);
  assert.equal(bad.code, 1);
  const uni = await cli(['run', f('uni1_sf.npz'), '--onnx', f('uni1_sf.onnx')]);
  assert.equal(uni.code, 0, uni.stderr);
  const map = await cli(['run', f('uni1_sf.npz'), '--onnx', f('uni1_sf.onnx'), '--onnx-map', 'input=nope']);
  assert.equal(map.code, 2);
  assert.match(map.stderr, /--onnx-map input=nope: the model has no such input \(it has input, h0\)/);
});

test('--onnx without ONNX Runtime installed: exit 2 naming npm install onnxruntime-node', { skip: ortInstalled && 'onnxruntime-node is installed here' }, async () => {
  const r = await cli(['run', f('bidir2_bf.npz'), '--onnx', f('bidir2_bf.onnx')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^gru-check: error: .*--onnx runs the model in ONNX Runtime, which is not installed .*\(npm install --no-save --ignore-scripts onnxruntime-node@1\.30\.0: /);
});
