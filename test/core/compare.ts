// isclose and the error metrics: the rule is numpy/torch's, |a - e| <= atol + rtol*|e|.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTensors, isClose, unravel } from '../../src/compare/isclose.js';
import { presetOverrides, resolveTolerance } from '../../src/compare/tolerance.js';
import { metric } from '../helpers.js';

const o = { rtol: 1e-3, atol: 1e-5, equalNan: false };
const target = { tensor: 'output' as const, subject: 'reference' as const, against: 'expected' as const };

test('isclose: the boundary is inclusive and scales with |expected|, not |actual|', () => {
  assert.equal(isClose(1 + 1e-3 + 1e-5, 1, o), true);
  assert.equal(isClose(1 + 1.02e-3 + 1e-5, 1, o), false);
  // asymmetric like torch: rtol multiplies |e|
  assert.equal(isClose(0, 10, { rtol: 0.1, atol: 0, equalNan: false }), false);
  assert.equal(isClose(9, 10, { rtol: 0.1, atol: 0, equalNan: false }), true);
  assert.equal(isClose(10, 9, { rtol: 0.1, atol: 0, equalNan: false }), false);
});

test('isclose: NaN equals NaN only with equalNan; infinities only with the same sign', () => {
  assert.equal(isClose(NaN, NaN, o), false);
  assert.equal(isClose(NaN, NaN, { ...o, equalNan: true }), true);
  assert.equal(isClose(NaN, 1, { ...o, equalNan: true }), false);
  assert.equal(isClose(Infinity, Infinity, o), true);
  assert.equal(isClose(-Infinity, -Infinity, o), true);
  assert.equal(isClose(Infinity, -Infinity, o), false);
  // the tfjs areClose trap: two different non-finite values are NOT close
  assert.equal(isClose(Infinity, NaN, { ...o, equalNan: true }), false);
  assert.equal(isClose(1e308, Infinity, { rtol: 1, atol: 1, equalNan: false }), false);
});

test('isclose: zeros and tiny expected values fall back to atol', () => {
  assert.equal(isClose(0, 0, { rtol: 0, atol: 0, equalNan: false }), true);
  assert.equal(isClose(-0, 0, { rtol: 0, atol: 0, equalNan: false }), true);
  assert.equal(isClose(9e-6, 1e-30, o), true);
  assert.equal(isClose(2e-5, 1e-30, o), false);
});

test('compareTensors: counts, greatest errors with indices in the tensor\'s own axis order', () => {
  const shape = [2, 3, 2];
  const e = Array.from({ length: 12 }, (_, i) => i + 1);
  const a = e.slice();
  a[7] = e[7]! + 0.5; // index [1, 0, 1]
  a[2] = e[2]! - 0.25; // index [0, 1, 0], relative 0.25/3
  const r = compareTensors({ shape, data: a }, { shape, data: e }, { ...target, timeAxis: 1 }, o);
  assert.equal(r.pass, false);
  assert.equal(r.total, 12);
  assert.equal(r.mismatched, 2);
  assert.deepEqual(r.maxAbsIndex, [1, 0, 1]);
  assert.equal(r.maxAbsError, 0.5);
  // the greatest relative error is elsewhere: 0.25/3 > 0.5/8
  assert.deepEqual(r.maxRelIndex, [0, 1, 0]);
  assert.ok(Math.abs(metric(r.maxRelError) - 0.25 / 3) < 1e-15);
  assert.ok(Math.abs(metric(r.meanAbsError) - 0.75 / 12) < 1e-12);
  // time axis 1: the mismatch at [1,0,1] is step 0, the one at [0,1,0] step 1
  assert.equal(r.firstMismatchStep, 0);
  assert.deepEqual(r.stepMaxAbs, [0.5, 0.25, 0]);
  // the smallest atol that passes at rtol 1e-3
  assert.ok(Math.abs(r.requiredAtol! - (0.5 - 1e-3 * 8)) < 1e-12);
  const again = compareTensors({ shape, data: a }, { shape, data: e }, target, { ...o, atol: r.requiredAtol! * (1 + 1e-12) });
  assert.equal(again.pass, true);
});

test('compareTensors: NaN/inf mismatches are counted, not folded into finite metrics', () => {
  const shape = [4];
  const r = compareTensors({ shape, data: [NaN, Infinity, 1, 0.5] }, { shape, data: [NaN, -Infinity, 1, 0] }, target, o);
  assert.equal(r.mismatched, 3);
  assert.equal(r.nonFiniteMismatched, 2);
  assert.equal(r.requiredAtol, null);
  assert.equal(r.maxAbsError, 0.5);
  assert.equal(r.zeroExpected, 1); // expected 0, difference 0.5: relative error infinite, left out
  assert.equal(r.maxRelError, 0);
  const eq = compareTensors({ shape: [1], data: [NaN] }, { shape: [1], data: [NaN] }, target, { ...o, equalNan: true });
  assert.equal(eq.pass, true);
  assert.equal(eq.nonFiniteMismatched, 0);
});

test('compareTensors: a shape disagreement is a failed check with a message', () => {
  const r = compareTensors({ shape: [2, 3], data: new Array(6).fill(0) }, { shape: [3, 2], data: new Array(6).fill(0) }, target, o);
  assert.equal(r.pass, false);
  assert.equal(r.problem, 'shape mismatch: expected [3, 2] (expected output), got [2, 3] (reference)');
  // No element-wise error exists: the metrics say so instead of a misleading 0.
  assert.equal(r.maxAbsError, null);
  assert.equal(r.maxRelError, null);
  assert.equal(r.meanAbsError, null);
  assert.equal(r.maxAbsIndex, null);
  assert.equal(r.maxRelIndex, null);
  assert.equal(r.mismatched, 6);
});

test('unravel is C order', () => {
  assert.deepEqual(unravel(0, [2, 3, 4]), [0, 0, 0]);
  assert.deepEqual(unravel(23, [2, 3, 4]), [1, 2, 3]);
  assert.deepEqual(unravel(5, [2, 3, 4]), [0, 1, 1]);
});

test('default tolerances are torch.testing.assert_close\'s, flags override each separately', () => {
  assert.deepEqual([resolveTolerance('float32', {}).rtol, resolveTolerance('float32', {}).atol], [1.3e-6, 1e-5]);
  assert.deepEqual([resolveTolerance('float64', {}).rtol, resolveTolerance('float64', {}).atol], [1e-7, 1e-7]);
  assert.deepEqual([resolveTolerance('float16', {}).rtol, resolveTolerance('float16', {}).atol], [1e-3, 1e-5]);
  const t = resolveTolerance('float32', { atol: 0.1 });
  assert.equal(t.atol, 0.1);
  assert.equal(t.rtol, 1.3e-6);
  assert.equal(t.atolSource, '--atol');
  assert.equal(t.rtolSource, 'default for float32');
});

test('presets hold the candidate\'s checks only; an explicit setting wins over the preset for the checks it names', () => {
  const o = { portPrecision: 'int8' as const, atol: { 'candidate.h_n': 1e-3 }, checkErrorStat: { reference: 'mean' as const } };
  const ref = resolveTolerance('float32', o, { tensor: 'output', subject: 'reference' });
  assert.deepEqual([ref.rtol, ref.atol, ref.checkErrorStat, ref.maxRelL2, ref.preset], [1.3e-6, 1e-5, 'mean', undefined, undefined]);
  const out = resolveTolerance('float32', o, { tensor: 'output', subject: 'candidate' });
  assert.deepEqual([out.rtol, out.atol, out.checkErrorStat, out.maxRelL2, out.preset], [2 / 127, 1e-5, 'max', 10 ** (-35 / 20), 'int8']);
  assert.deepEqual([out.rtolSource, out.atolSource, out.checkErrorStatSource, out.maxRelL2Source], ['--port-precision int8', '--port-precision int8', '--port-precision int8', '--port-precision int8']);
  const hn = resolveTolerance('float32', o, { tensor: 'h_n', subject: 'candidate' });
  assert.deepEqual([hn.atol, hn.atolSource, hn.rtolSource], [1e-3, '--atol candidate.h_n', '--port-precision int8']);
});

test('presetOverrides names what an explicit setting replaced of a preset, and nothing for reference-only keys', () => {
  assert.deepEqual(presetOverrides({ rtol: 1e-4 }), []);
  assert.deepEqual(presetOverrides({ portPrecision: 'fp16', atol: { reference: 1e-3 } }), []);
  assert.deepEqual(presetOverrides({ portPrecision: 'fp16', rtol: 1e-4, checkErrorStat: { candidate: 'median' }, minCosine: 0.99 }), [
    "--rtol 0.0001 is used instead of --port-precision fp16's rtol 0.00390625",
    "--check-error-stat candidate:median is used instead of --port-precision fp16's check-error-stat mean for the checks it names",
    "--min-cosine 0.99 is used instead of --port-precision fp16's min-cosine (it sets none)",
  ]);
});
