// ONNX's GRU operator, every attribute: the backend tests (test_gru_batchwise among them) rebuilt
// as cases, and spec cases for linear_before_reset, direction, sequence_lens, clip, every activation
// with alpha/beta, and layout=1, whose expected tensors come from ONNX's reference implementation
// (test/fixtures/onnx/make_onnx_fixtures.py, cross-checked against the backend .pb data, numpy and
// ONNX Runtime; see that folder's README). Ports that ignored an attribute must FAIL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadArrays } from '../../src/io/load.js';
import { buildCase } from '../../src/model/case.js';
import { checkCase } from '../../src/check.js';
import { readCandidate } from '../../src/candidate/read.js';
import { ROOT } from '../helpers.js';

const DIR = join(ROOT, 'test', 'fixtures', 'onnx');
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as {
  cases: { file: string; expect: string; attributes: Record<string, unknown>; onnx_backend_test?: string }[];
  candidates: { file: string; candidate_of: string; expect: string; description: string }[];
};

test('the manifest lists the ONNX backend GRU tests, batchwise included, and every activation as f and g', () => {
  const backend = manifest.cases.map((c) => c.onnx_backend_test).filter(Boolean);
  for (const t of ['test_gru_defaults', 'test_gru_seq_length', 'test_gru_with_initial_bias', 'test_gru_batchwise']) assert.ok(backend.includes(t), t);
  for (const a of ['Relu', 'Tanh', 'Sigmoid', 'Affine', 'LeakyRelu', 'ThresholdedRelu', 'ScaledTanh', 'HardSigmoid', 'Elu', 'Softsign', 'Softplus']) {
    assert.ok(manifest.cases.some((c) => c.file === `act_f_${a}.npz`), `f=${a}`);
    assert.ok(manifest.cases.some((c) => c.file === `act_g_${a}.npz`), `g=${a}`);
  }
});

for (const engine of ['fast', 'reference'] as const) {
  test(`every ONNX spec case passes against ONNX's reference (${engine} engine)`, async () => {
    for (const c of manifest.cases) {
      const r = await checkCase(join(DIR, c.file), { engine });
      const worst = Math.max(...r.checks.map((k) => k.maxAbsError ?? Infinity));
      assert.equal(r.pass, c.expect === 'pass', `${c.file} (${JSON.stringify(c.attributes)}): pass ${r.pass}, max abs error ${worst}`);
      assert.ok(worst < 1e-6, `${c.file}: max abs error ${worst}`);
    }
  });
}

test('ports that ignored clip, an activation, alpha/beta order, sequence_lens or layout=1 FAIL; a correct port passes', async () => {
  for (const k of manifest.candidates) {
    const candidate = readCandidate(await loadArrays(join(DIR, k.file)));
    const r = await checkCase(join(DIR, k.candidate_of), { candidate });
    assert.equal(r.pass, k.expect === 'pass', `${k.file}: ${k.description}`);
    if (k.expect === 'fail') {
      const port = r.checks.filter((c) => c.subject === 'candidate' && c.against === 'expected');
      assert.ok(port.some((c) => !c.pass && (c.maxAbsError === null || c.maxAbsError > 1e-3)), `${k.file}: the port's own check should fail by > 1e-3`);
      // and the reference itself matches the spec's expected tensors
      assert.ok(r.checks.filter((c) => c.subject === 'reference').every((c) => c.pass), `${k.file}: reference vs expected`);
    }
  }
});

test('onnx_layout 1 reads X [B, T, I], initial_h [B, D, H], Y [B, T, D, H], Y_h [B, D, H]', async () => {
  const c = buildCase(await loadArrays(join(DIR, 'layout1_bidirectional_seqlens.npz')));
  assert.equal(c.config.batchFirst, true);
  const r = await checkCase(c);
  assert.equal(r.pass, true);
  const y = r.checks.find((k) => k.tensor === 'output')!;
  const X = (await loadArrays(join(DIR, 'layout1_bidirectional_seqlens.npz'))).arrays.get('X')!;
  assert.deepEqual(y.shape, [X.shape[0], X.shape[1], 2, c.params.hiddenSize]);
  // the same case read as layout 0 is refused or fails: never a silent pass
  const as0 = await checkCase(join(DIR, 'layout1_bidirectional_seqlens.npz'), { onnxLayout: 0 }).catch((e: Error) => e);
  assert.ok(as0 instanceof Error || !as0.pass, 'read as onnx_layout 0 it must not pass');
});

test('activations are per direction, alpha/beta consumed in activation order, defaults named where ONNX Runtime differs', async () => {
  const mixed = buildCase(await loadArrays(join(DIR, 'act_bidirectional_mixed.npz')));
  assert.ok(mixed.directionMath && mixed.directionMath[0] !== mixed.directionMath[1]);
  const thr = buildCase(await loadArrays(join(DIR, 'act_g_ThresholdedRelu.npz')));
  assert.equal(thr.math.g.name, 'ThresholdedRelu');
  assert.equal(thr.math.g.alpha, 1, "the ThresholdedRelu operator's default alpha");
  assert.ok(thr.warnings.some((w) => w.code === 'ONNX_DEFAULT_DIFFERS' && /ONNX Runtime uses 0/.test(w.message)), JSON.stringify(thr.warnings));
});
