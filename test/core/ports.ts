// The port gate against ports made from real PyTorch GRUs with one planted mistake each
// (samples/make_port_samples.py, an independent numpy implementation): `run --candidate` fails
// them, `diagnose` names the planted mistake first; a correct port passes and names nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadArrays } from '../../src/io/load.js';
import { buildCase } from '../../src/model/case.js';
import { readCandidate } from '../../src/candidate/read.js';
import { diagnoseCase } from '../../src/diagnose/diagnose.js';
import { ROOT, cli, metric, sample, checkRef } from '../helpers.js';

const PORTS = join(ROOT, 'test', 'fixtures', 'ports');
interface Port { name: string; file: string; base: string; expect: 'pass' | 'fail' }
const ports = (JSON.parse(readFileSync(join(PORTS, 'ports.json'), 'utf8')) as { ports: Port[] }).ports;

// test/core/diagnose.ts checks that every family of variants is planted in a fixture, these included.
test('the fixtures include a correct port', async () => {
  assert.ok(ports.some((p) => p.name === 'correct' && p.expect === 'pass'));
});

for (const p of ports) {
  test(`port ${p.name}: run --candidate ${p.expect === 'pass' ? 'passes' : 'fails'} and diagnose ${p.expect === 'pass' ? 'names nothing' : 'names it first'}`, async () => {
    const c = buildCase(await loadArrays(join(PORTS, p.base)));
    const candidate = readCandidate(await loadArrays(join(PORTS, p.file)));
    // port_square has batch == time steps: which layout the port wrote is said, never guessed.
    const candidateLayout = c.seqLen === c.batchSize ? (c.config.batchFirst ? 'batch-first' : 'seq-first') : undefined;
    const run = await checkRef(c, { candidate, candidateLayout });
    // the dump's own sanity check always passes; the candidate's checks decide
    for (const k of run.checks.filter((k) => k.subject === 'reference')) assert.equal(k.pass, true);
    assert.equal(run.checks.filter((k) => k.subject === 'candidate').length, 4, 'candidate vs reference and vs expected, for output and h_n');
    assert.equal(run.pass, p.expect === 'pass');
    const d = await diagnoseCase(c, { candidate, candidateLayout });
    if (p.expect === 'pass') {
      assert.equal(d.pass, true);
      assert.equal(d.diagnosis!.filter((e) => e.matches).length, 0);
    } else {
      assert.equal(d.pass, false);
      assert.equal(d.diagnosis![0]!.variant, p.name, `best: ${JSON.stringify(d.diagnosis!.slice(0, 3))}`);
      assert.equal(d.diagnosis![0]!.matches, true);
      // and it is the only explanation: the planted mistakes are far apart
      assert.equal(d.diagnosis!.filter((e) => e.matches).length, 1);
    }
  });
}

test('diagnose without --candidate tests the expected tensors: a clean dump has nothing to diagnose', async () => {
  const d = await diagnoseCase(buildCase(await loadArrays(sample('bidir_2layer.npz'))));
  assert.equal(d.pass, true);
  assert.deepEqual(d.diagnosis, []);
  // a planted single-element change is no known mistake
  const m = await diagnoseCase(buildCase(await loadArrays(sample('mismatch.npz'))));
  assert.equal(m.pass, false);
  assert.equal(m.diagnosis!.filter((e) => e.matches).length, 0);
});

test('ONNX (linear_before_reset 0 and 1) and Keras (reset_after True and False) dumps pass against their expected tensors', async () => {
  for (const [name, layout, lbr] of [['onnx_lbr1.npz', 'onnx', true], ['onnx_lbr0.npz', 'onnx', false], ['keras_reset_after.npz', 'keras', true], ['keras_reset_before.npz', 'keras', false]] as const) {
    const c = buildCase(await loadArrays(sample(name)));
    assert.equal(c.config.layout, layout);
    assert.equal(c.math.linearBeforeReset, lbr, name);
    const r = await checkRef(c);
    assert.equal(r.pass, true, `${name}: ${JSON.stringify(r.checks.map((k) => [k.tensor, k.maxAbsError]))}`);
    for (const k of r.checks) assert.ok(metric(k.maxAbsError) <= 2e-6, `${name} ${k.tensor} ${k.maxAbsError}`);
  }
  // the other reset placement fails: the flag is really used
  const flipped = await checkRef(buildCase(await loadArrays(sample('onnx_lbr1.npz')), { linearBeforeReset: false }));
  assert.equal(flipped.pass, false);
  const onnx = await checkRef(buildCase(await loadArrays(sample('onnx_lbr1.npz'))));
  assert.deepEqual(onnx.checks.map((k) => k.shape), [[6, 2, 3, 5], [2, 3, 5]], 'Y [T,D,B,H] and Y_h [D,B,H] in their own axis order');
  assert.deepEqual(onnx.lengths, [6, 3, 5]);
});

test('CLI: run --candidate exit codes and JSON subjects; diagnose names the mistake with its fix', async () => {
  const base = 'test/fixtures/ports/port_base.npz';
  assert.equal((await cli(['run', base, '--candidate', 'test/fixtures/ports/correct.npz'])).code, 0);
  const bad = await cli(['run', base, '--candidate', 'test/fixtures/ports/h0-ignored.npz', '--format', 'json']);
  assert.equal(bad.code, 1);
  const doc = JSON.parse(bad.stdout);
  const pairs = doc.cases[0].checks.map((k: { tensor: string; subject: string; against: string; pass: boolean }) => `${k.tensor}:${k.subject}:${k.against}:${k.pass}`);
  assert.deepEqual(pairs, [
    'output:reference:expected:true', 'output:candidate:reference:false', 'output:candidate:expected:false',
    'h_n:reference:expected:true', 'h_n:candidate:reference:false', 'h_n:candidate:expected:false',
  ]);
  const d = await cli(['diagnose', base, '--candidate', 'test/fixtures/ports/reset-before-matmul.npz']);
  assert.equal(d.code, 1);
  assert.match(d.stdout, /1\. reset-before-matmul/);
  assert.match(d.stdout, /fix: .*linear_before_reset=1/);
  const j = JSON.parse((await cli(['diagnose', base, '--candidate', 'test/fixtures/ports/w_hh-transposed.npz', '--format', 'json'])).stdout);
  assert.equal(j.pass, false);
  assert.deepEqual(Object.keys(j.diagnosis[0]), ['variant', 'matches', 'verdict', 'maxAbsError', 'fix']);
  assert.equal(j.diagnosis[0].variant, 'w_hh-transposed');
  const ok = await cli(['diagnose', base, '--candidate', 'test/fixtures/ports/correct.npz', '--format', 'json']);
  assert.equal(ok.code, 0);
  assert.equal(JSON.parse(ok.stdout).pass, true);
  assert.equal(JSON.parse(ok.stdout).diagnosis.length, 0);
  // a candidate of a shape no layout explains could not be checked: exit 2 naming the shapes it could have
  const shape = await cli(['run', base, '--candidate', 'test/fixtures/ports/wrong_shape.npz']);
  assert.equal(shape.code, 2);
  assert.equal(shape.stdout, '');
  assert.match(shape.stderr, /^gru-check: error: test\/fixtures\/ports\/wrong_shape\.npz: candidate output \[6, 3, 9\] fits no layout of this case \(T=6, B=3, 2x5 features\): expected \[6, 3, 10\] seq-first, \[3, 6, 10\] batch-first, /);
  assert.equal(shape.stderr.split('\n').length, 2, shape.stderr);
  // a candidate file with neither tensor is an input error
  const none = await cli(['run', base, '--candidate', 'test/fixtures/io/npy/f4.npy']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^gru-check: error: test\/fixtures\/io\/npy\/f4\.npy: candidate holds no array named output, h_n, Y, Y_h, forward_h, backward_h or h \(it has f4\)/);
});
