// The reference GRU against real PyTorch dumps, and the properties the math gives for free.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadArrays } from '../../src/io/load.js';
import { buildCase } from '../../src/model/case.js';

import { runGruStack } from '../../src/gru/layer.js';
import type { GruParams } from '../../src/model/types.js';
import { lcg, randomRun } from '../random-run.js';
import { fixture, metric, sample, sampleFiles, checkRef } from '../helpers.js';

const load = async (path: string, opts = {}) => buildCase(await loadArrays(path), opts);

test('every sample except mismatch.npz passes with default tolerances; float32 ones within 2e-6', async () => {
  const files = sampleFiles();
  assert.ok(files.length >= 7, `expected at least 7 samples, found ${files.length}`);
  for (const f of files) {
    const c = await load(f);
    const r = await checkRef(c);
    const shouldPass = !f.endsWith('mismatch.npz');
    assert.equal(r.pass, shouldPass, `${f}: ${JSON.stringify(r.checks.map((k) => [k.tensor, k.maxAbsError, k.mismatched]))}`);
    assert.ok(r.checks.length >= 1);
    if (shouldPass && c.config.dtype === 'float32') {
      for (const k of r.checks) assert.ok(metric(k.maxAbsError) <= 2e-6, `${f} ${k.tensor}: max abs ${k.maxAbsError}`);
    }
  }
});

test('mismatch.npz fails exactly at the planted element output[2, 1, 3], h_n still passes', async () => {
  const r = await checkRef(await load(sample('mismatch.npz')));
  const out = r.checks.find((k) => k.tensor === 'output')!;
  const hn = r.checks.find((k) => k.tensor === 'h_n')!;
  assert.equal(out.pass, false);
  assert.equal(out.mismatched, 1);
  assert.deepEqual(out.maxAbsIndex, [2, 1, 3]);
  assert.ok(Math.abs(metric(out.maxAbsError) - 1e-3) < 1e-5);
  assert.equal(out.firstMismatchStep, 2);
  assert.equal(hn.pass, true);
});

test('fixtures: prefixes, big-endian + Fortran arrays, 3 bidirectional layers without bias, partial expectations', async () => {
  for (const name of ['prefixed.npz', 'big_endian_fortran.npz', 'layers3_bidir_nobias.npz', 'only_h_n.npz', 'only_output.npz', 'ambiguous_with_config.npz']) {
    const r = await checkRef(await load(fixture(name)));
    assert.equal(r.pass, true, `${name}: ${JSON.stringify(r.checks.map((k) => [k.tensor, k.maxAbsError]))}`);
    for (const k of r.checks) assert.ok(metric(k.maxAbsError) <= 2e-6, `${name} ${k.tensor}: ${k.maxAbsError}`);
  }
  assert.deepEqual((await checkRef(await load(fixture('only_h_n.npz')))).checks.map((k) => k.tensor), ['h_n']);
  assert.deepEqual((await checkRef(await load(fixture('only_output.npz')))).checks.map((k) => k.tensor), ['output']);
  const two = await checkRef(await load(fixture('two_grus.npz'), { prefix: 'enc' }));
  assert.equal(two.pass, true);
});

test('the ambiguous fixture read the wrong way round fails by a wide margin (a guess would not be silent)', async () => {
  const wrong = await checkRef(await load(fixture('ambiguous.npz'), { batchFirst: false }));
  const right = await checkRef(await load(fixture('ambiguous.npz'), { batchFirst: true }));
  assert.equal(right.pass, true);
  assert.equal(wrong.pass, false);
  assert.ok(metric(wrong.checks[0]!.maxAbsError) > 1e-2);
});

test('f64 precision is at least as close to a float64 PyTorch run as f32 precision', async () => {
  const c = await load(sample('float64.npz'));
  const f64 = await checkRef(c, { precision: 'f64' });
  const f32 = await checkRef(c, { precision: 'f32' });
  for (let i = 0; i < f64.checks.length; i++) {
    assert.ok(metric(f64.checks[i]!.maxAbsError) <= metric(f32.checks[i]!.maxAbsError));
    assert.ok(metric(f64.checks[i]!.maxAbsError) < 1e-12);
  }
  // and on float32 dumps both precisions stay inside the float32 tolerances
  for (const f of sampleFiles().filter((f) => !f.endsWith('mismatch.npz'))) {
    const r = await checkRef(await load(f), { precision: 'f64' });
    assert.equal(r.pass, true, f);
  }
});

test('lengths: padded steps are zero and h_n holds each sequence\'s last valid state (vs PyTorch)', async () => {
  const c = await load(sample('lengths.npz'));
  const r = await checkRef(c);
  assert.equal(r.pass, true);
  assert.deepEqual(r.lengths, [5, 2, 7, 4]);
  // ignoring lengths must fail: the padded steps hold non-zero input
  const noLengths = { ...c, lengths: undefined } as typeof c;
  delete (noLengths as { lengths?: unknown }).lengths;
  assert.equal((await checkRef(noLengths)).pass, false);
});

// ---- properties over random GRUs (no PyTorch needed: these compare the reference with itself) ----

/** Random GRU parameters (PyTorch's init scale) with the shared builder. */
function randomParams(r: () => number, I: number, H: number, L: number, D: number, bias: boolean): GruParams {
  return randomRun({ T: 0, B: 0, I, H, L, bidir: D === 2, bias }, r).params;
}

const shapes = fc.record({
  I: fc.integer({ min: 1, max: 5 }), H: fc.integer({ min: 1, max: 5 }), T: fc.integer({ min: 1, max: 6 }),
  B: fc.integer({ min: 1, max: 4 }), bias: fc.boolean(), seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

test('property: the forward half of a bidirectional run equals a unidirectional run', () => {
  fc.assert(fc.property(shapes, ({ I, H, T, B, bias, seed }) => {
    const r = lcg(seed);
    const bi = randomParams(r, I, H, 1, 2, bias);
    const x = Float32Array.from({ length: T * B * I }, () => (2 * r() - 1));
    const h0 = Float32Array.from({ length: 2 * B * H }, () => 2 * r() - 1);
    const both = runGruStack({ params: bi, input: x, seqLen: T, batchSize: B, h0 }, { precision: 'f64' });
    const uni = { ...bi, bidirectional: false, layers: [[bi.layers[0]![0]!]] };
    const fwd = runGruStack({ params: uni, input: x, seqLen: T, batchSize: B, h0: h0.subarray(0, B * H) }, { precision: 'f64' });
    for (let row = 0; row < T * B; row++) {
      for (let j = 0; j < H; j++) assert.equal(both.output[row * 2 * H + j], fwd.output[row * H + j]);
    }
    assert.deepEqual(both.hN.subarray(0, B * H), fwd.hN);
  }), { seed: 1, numRuns: 60 });
});

test('property: a 2-layer stack equals two chained 1-layer runs', () => {
  fc.assert(fc.property(shapes, fc.boolean(), ({ I, H, T, B, bias, seed }, bidir) => {
    const r = lcg(seed);
    const D = bidir ? 2 : 1;
    const p = randomParams(r, I, H, 2, D, bias);
    const x = Float32Array.from({ length: T * B * I }, () => (2 * r() - 1));
    const h0 = Float32Array.from({ length: 2 * D * B * H }, () => 2 * r() - 1);
    const stack = runGruStack({ params: p, input: x, seqLen: T, batchSize: B, h0 }, { precision: 'f32' });
    const one = (k: number) => ({ ...p, numLayers: 1, inputSize: p.layers[k]![0]!.inputSize, layers: [p.layers[k]!] });
    const slice = D * B * H;
    const l0 = runGruStack({ params: one(0), input: x, seqLen: T, batchSize: B, h0: h0.subarray(0, slice) }, { precision: 'f32' });
    const l1 = runGruStack({ params: one(1), input: l0.output, seqLen: T, batchSize: B, h0: h0.subarray(slice) }, { precision: 'f32' });
    assert.deepEqual(stack.output, l1.output);
    assert.deepEqual(stack.hN.subarray(0, slice), l0.hN);
    assert.deepEqual(stack.hN.subarray(slice), l1.hN);
  }), { seed: 2, numRuns: 60 });
});

test('property: f64 and f32 precision agree to float32 rounding', () => {
  fc.assert(fc.property(shapes, ({ I, H, T, B, bias, seed }) => {
    const r = lcg(seed);
    const p = randomParams(r, I, H, 2, 2, bias);
    const x = Float32Array.from({ length: T * B * I }, () => (2 * r() - 1));
    const h0 = Float32Array.from({ length: 4 * B * H }, () => 2 * r() - 1);
    const a = runGruStack({ params: p, input: x, seqLen: T, batchSize: B, h0 }, { precision: 'f32' });
    const b = runGruStack({ params: p, input: x, seqLen: T, batchSize: B, h0 }, { precision: 'f64' });
    let maxDiff = 0;
    for (let i = 0; i < a.output.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.output[i]! - b.output[i]!));
    // |h| < 1, so each rounding is <= 2^-24; a few steps of it stay far below 1e-6
    assert.ok(maxDiff < 1e-6, `max diff ${maxDiff}`);
    // and f32 mode really rounds: every state it returns is a float32 value
    for (const v of a.output) assert.equal(v, Math.fround(v));
  }), { seed: 3, numRuns: 60 });
});
