// The compare kernel (wasm/compare.wat, driven by src/compare/kernel.ts) against the definitions
// written out plainly: isclose per element (isClose), every metric and sum in element order, the
// per-step and heatmap maxima by index arithmetic, and the medians and quantiles by sorting. The
// kernel's speed comes from counting what it can derive, sentinels for "no max yet", histogram
// selection and chunking; none of that may change a number. Numbers against numpy itself are in
// core/stats.ts (fixtures written by real numpy); this is about the rewrite agreeing everywhere,
// including NaN, infinities, -0, subnormal and huge values, every pair of element types, values kept
// during the scan or gathered after it, and tensors spanning many chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareTensors, isClose, unravel, type CompareOptions } from '../../src/compare/isclose.js';
import type { CheckResult } from '../../src/result.js';
import { medianQuantileFrom, medianQuantileRanks } from '../../src/compare/stats.js';
import { plainErrorHistogram } from './histogram.js';
import { chunkForTests, compareBuildForTests, samplePlan } from '../../src/compare/kernel.js';

const MAX = Number.MAX_VALUE;

interface Oracle {
  mismatched: number;
  nonFinite: number;
  zeroExpected: number;
  maxAbs: number;
  maxAbsAt: number;
  maxRel: number;
  maxRelAt: number;
  meanAbs: number;
  required: number | null;
  firstStep: number | null;
  relCount: number;
  abs: { median: number; quantile: number } | null;
  rel: { median: number; quantile: number } | null;
  diffs: Float64Array;
  /** undefined for an empty tensor: compareTensors makes no per-axis summaries of one. */
  stepMax: number[] | undefined;
  map: number[] | undefined;
}

/** Where the per-step maxima and the heatmap are made: by default both along axis 1; null: not made. */
interface Axes {
  time: number | null;
  mapRow: number | null;
}

/** The check as its definition reads, element after element. */
function oracle(a: ArrayLike<number>, e: ArrayLike<number>, shape: number[], axes: Axes, o: CompareOptions, q: number): Oracle {
  const n = e.length;
  const size = (from: number): number => shape.slice(from).reduce((x, y) => x * y, 1);
  const inner = axes.time === null ? n : size(axes.time + 1);
  const steps = axes.time === null ? 1 : shape[axes.time]!;
  const C = shape[shape.length - 1]!;
  // Heatmap rows: the row axis' index; columns: the last axis' index.
  const R = axes.mapRow === null ? 0 : shape[axes.mapRow]!;
  const QC = axes.mapRow === null ? 1 : size(axes.mapRow + 1);
  let mismatched = 0, nonFinite = 0, zeroExpected = 0, maxAbs = 0, maxAbsAt = -1, maxRel = 0, maxRelAt = -1, sumAbs = 0, finite = 0, required = 0, firstStep = -1;
  const d: number[] = [];
  const r: number[] = [];
  const stepMax = new Array<number>(steps).fill(0);
  const map = new Array<number>(R * C).fill(0);
  for (let i = 0; i < n; i++) {
    const ai = a[i]!, ei = e[i]!;
    const t = Math.floor(i / inner) % steps;
    const diff = Math.abs(ai - ei);
    if (diff <= MAX) {
      const ae = Math.abs(ei);
      if (!(diff <= o.atol + o.rtol * ae)) {
        mismatched++;
        if (firstStep < 0 || t < firstStep) firstStep = t;
      }
      finite++;
      sumAbs += diff;
      if (diff > maxAbs || maxAbsAt < 0) [maxAbs, maxAbsAt] = [diff, i];
      required = Math.max(required, diff - o.rtol * ae);
      d.push(diff);
      if (ae === 0) {
        if (diff !== 0) zeroExpected++;
      } else if (diff / ae === Infinity) {
        zeroExpected++;
      } else {
        const ratio = diff / ae;
        r.push(ratio);
        if (ratio > maxRel || maxRelAt < 0) [maxRel, maxRelAt] = [ratio, i];
      }
      stepMax[t] = Math.max(stepMax[t]!, diff);
      if (R > 0) {
        const cell = (Math.floor(i / QC) % R) * C + (i % C);
        map[cell] = Math.max(map[cell]!, diff);
      }
    } else if (!isClose(ai, ei, o)) {
      mismatched++;
      nonFinite++;
      if (firstStep < 0 || t < firstStep) firstStep = t;
    } else if (ai === ei) {
      finite++;
      if (maxAbsAt < 0) maxAbsAt = i;
      if (maxRelAt < 0) maxRelAt = i;
    }
  }
  const mq = (v: number[]): { median: number; quantile: number } | null => {
    if (v.length === 0) return null;
    const s = Float64Array.from(v).sort();
    return medianQuantileFrom(medianQuantileRanks(s.length, q).map((k) => s[k]!), s.length, q);
  };
  return {
    mismatched, nonFinite, zeroExpected, maxAbs, maxAbsAt, maxRel, maxRelAt,
    meanAbs: finite === 0 ? 0 : sumAbs / finite,
    required: nonFinite > 0 ? null : required,
    firstStep: firstStep >= 0 && axes.time !== null ? firstStep : null,
    relCount: r.length,
    abs: mq(d),
    rel: mq(r),
    diffs: Float64Array.from(d),
    stepMax: n > 0 && axes.time !== null ? stepMax : undefined,
    map: n > 0 && R > 0 ? map : undefined,
  };
}

function agree(k: CheckResult, want: Oracle, shape: number[], label: string): void {
  const at = (i: number): number[] | null => (i >= 0 ? unravel(i, shape) : null);
  assert.equal(k.mismatched, want.mismatched, `${label}: mismatched`);
  assert.equal(k.nonFiniteMismatched, want.nonFinite, `${label}: nonFiniteMismatched`);
  assert.equal(k.zeroExpected, want.zeroExpected, `${label}: zeroExpected`);
  assert.equal(k.maxAbsError, want.maxAbs, `${label}: maxAbsError`);
  assert.deepEqual(k.maxAbsIndex, at(want.maxAbsAt), `${label}: maxAbsIndex`);
  assert.equal(k.maxRelError, want.maxRel, `${label}: maxRelError`);
  assert.deepEqual(k.maxRelIndex, at(want.maxRelAt), `${label}: maxRelIndex`);
  if (Number.isFinite(want.meanAbs)) assert.equal(k.meanAbsError, want.meanAbs, `${label}: meanAbsError`);
  assert.equal(k.requiredAtol, want.required, `${label}: requiredAtol`);
  assert.equal(k.firstMismatchStep, want.firstStep, `${label}: firstMismatchStep`);
  assert.equal(k.relCount, want.relCount, `${label}: relCount`);
  assert.equal(k.medianAbsError, want.abs?.median ?? null, `${label}: medianAbsError`);
  assert.equal(k.quantileAbsError, want.abs?.quantile ?? null, `${label}: quantileAbsError`);
  assert.equal(k.medianRelError, want.rel?.median ?? null, `${label}: medianRelError`);
  assert.equal(k.quantileRelError, want.rel?.quantile ?? null, `${label}: quantileRelError`);
  assert.deepEqual(k.stepMaxAbs, want.stepMax, `${label}: stepMaxAbs`);
  assert.deepEqual(k.errorMap?.values, want.map, `${label}: errorMap`);
  const zeros = want.diffs.filter((x) => x === 0).length;
  assert.deepEqual(k.errorHistogram, plainErrorHistogram(want.diffs, zeros), `${label}: errorHistogram`);
}

const TARGET = { tensor: 'output' as const, subject: 'reference' as const, against: 'expected' as const };

function check(a: ArrayLike<number>, e: ArrayLike<number>, shape: number[], o: CompareOptions, label: string, axes: Axes = { time: 1, mapRow: 1 }): void {
  const q = o.errorQuantile ?? 0.99;
  const target = {
    ...TARGET,
    ...(axes.time === null ? {} : { timeAxis: axes.time }),
    ...(axes.mapRow === null ? { errorMap: false } : { mapRowAxis: axes.mapRow }),
  };
  const k = compareTensors({ shape, data: a }, { shape, data: e }, target, o);
  agree(k, oracle(a, e, shape, axes, o, q), shape, label);
}

/** Values a port and a reference really produce, and the edges: ties, zeros, -0, subnormals, huge, non-finite. */
const special = [0, -0, 5e-324, 1e-310, 1e-300, 1, -1, 0.5, 1e308, -1e308, Infinity, -Infinity, NaN];
const value = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -2, max: 2, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom(...special) },
  { weight: 1, arbitrary: fc.double() },
);
/** Pairs mostly close (a = e + small noise), so medians fall among ties of tiny differences. */
const pair = fc.tuple(value, fc.oneof(fc.constant(0), fc.double({ min: -1e-6, max: 1e-6, noNaN: true }), value));

/**
 * Both builds of the kernel: scan's SIMD path takes two common elements at a time and must give
 * every number the one-element path gives, which is all the plain build has.
 */
const BUILDS = ['simd', 'plain'] as const;

function withBuild(build: (typeof BUILDS)[number], body: () => void): void {
  const back = compareBuildForTests(build);
  try {
    body();
  } finally {
    back();
  }
}

const Kinds = [
  ['float32/float32', Float32Array, Float32Array],
  ['float32/float64', Float32Array, Float64Array],
  ['float64/float32', Float64Array, Float32Array],
  ['float64/float64', Float64Array, Float64Array],
] as const;

for (const build of BUILDS) test(`the compare kernel (${build}) agrees with the plain definitions on every element-type pair (property)`, () => withBuild(build, () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 7 }),
      fc.array(pair, { minLength: 210, maxLength: 210 }),
      fc.constantFrom(...Kinds), fc.boolean(), fc.constantFrom(0.5, 0.9, 0.99),
      (B, T, H, pairs, [label, A, E], equalNan, errorQuantile) => {
        const n = B * T * H;
        const make = (K: typeof A | typeof E, v: number[]): Float32Array | Float64Array => (K === Float32Array ? Float32Array.from(v) : Float64Array.from(v));
        const e = make(E, pairs.slice(0, n).map(([x]) => x));
        const a = make(A, pairs.slice(0, n).map(([x, noise], i) => (i % 7 === 3 ? noise : x + noise)));
        check(a, e, [B, T, H], { rtol: 1.3e-6, atol: 1e-5, equalNan, errorQuantile }, label);
      },
    ),
    // The plain build has only the one-element path, which the SIMD build runs too (for every
    // element that is not common): fewer runs cover it.
    { numRuns: build === 'simd' ? 300 : 120 },
  );
}));

for (const build of BUILDS) test(`the compare kernel (${build}) adds in element order: means, relative L2 and cosine`, () => withBuild(build, () => {
  // Ordinary values, every element close, so the SIMD path takes them two at a time: its sums must
  // still be the element-order sums (the property test's huge values swamp any order there). Each
  // sum is checked through what it feeds: the means of |a - e| and |e|, ||a - e|| / ||e|| and the
  // cosine.
  // Values with all 53 bits and differences half their size, so a sum rounds at every step and its
  // order shows in the last bits (a difference of two nearby values has few bits, and sums of those
  // are exact in any order); a - e follows e, so e·(a - e) is comparable to e² and its order shows
  // in the cosine. Every mutation of a sum's order in the SIMD path fails this (tried).
  let s = 11;
  const lcg = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const rnd = (): number => ((lcg() + lcg() / 2 ** 32) / 2 ** 32) * 2 - 1;
  for (const n of [2, 3, 1001, 4096, 4097, 9999]) {
    const e = Float64Array.from({ length: n }, () => rnd() * 1e-6);
    const a = Float64Array.from(e, (x) => x + 0.5 * x + rnd() * 1e-7);
    let d1 = 0, d2 = 0, e2 = 0, ed = 0, e1 = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(a[i]! - e[i]!);
      d1 += d;
      d2 += d * d;
      e2 += e[i]! * e[i]!;
      ed += e[i]! * (a[i]! - e[i]!);
      e1 += Math.abs(e[i]!);
    }
    const k = compareTensors({ shape: [n], data: a }, { shape: [n], data: e }, TARGET, { rtol: 1e-5, atol: 1e-5, equalNan: false, checkErrorStat: 'mean' });
    assert.equal(k.mismatched, 0);
    assert.equal(k.meanAbsError, d1 / n, `${n}: mean |a - e|`);
    assert.equal(k.statExpected, e1 / n, `${n}: mean |e|`);
    assert.equal(k.relL2, Math.sqrt(d2) / Math.sqrt(e2), `${n}: relative L2`);
    const a2 = e2 + 2 * ed + d2;
    assert.equal(k.cosine, (e2 + ed) / (Math.sqrt(a2) * Math.sqrt(e2)), `${n}: cosine`);
  }
}));

test('the compare kernel: plain arrays, empty tensors, all equal, all non-finite', () => {
  const o = { rtol: 1e-3, atol: 1e-5, equalNan: true };
  check([1, 2, 3, 4], [1, 2.5, 3, 0], [1, 2, 2], o, 'plain arrays');
  check(new Float32Array(0), new Float32Array(0), [1, 0, 3], o, 'empty');
  const same = Float32Array.from({ length: 70000 }, (_, i) => Math.sin(i));
  check(same, same, [10, 70, 100], o, 'bit-exact (every rank in the zero bucket)');
  check([NaN, Infinity, -Infinity, NaN], [NaN, Infinity, Infinity, 1], [1, 2, 2], o, 'non-finite');
});

for (const build of BUILDS) test(`the compare kernel (${build}) across the keep threshold (65536 elements) and across chunks`, () => withBuild(build, () => {
  // An LCG's values with float32 rounding on one side: differences are multiples of an ulp, so the
  // quantiles' buckets hold thousands of ties, as in a real float32 port.
  let s = 7;
  const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const run = (B: number, T: number, H: number, label: string, axes?: Axes): void => {
    const n = B * T * H;
    const e = Float64Array.from({ length: n }, rnd);
    const a = Float32Array.from(e, (x, i) => (i === n - 5 ? x + 0.25 : x));
    check(a, e, [B, T, H], { rtol: 1.3e-6, atol: 1e-5, equalNan: false }, label, axes);
  };
  // Just under and over the size where the scan starts keeping values for the select.
  run(1, 256, 256, '1x256x256');
  run(1, 257, 256, '1x257x256');
  // Chunks of 4099 elements (a prime: they end mid-row and mid-step), for a tensor that keeps values
  // during the scan (past 65536) and for one that does not: state, counters and maxima carry over.
  const undo = chunkForTests(4099);
  try {
    run(3, 101, 301, '3x101x301 in chunks');
    run(2, 13, 17, '2x13x17 in chunks');
    // The scan runs in segments that end at the next step boundary, heatmap column wrap or heatmap
    // row change, whichever is first: axes where those differ, so a wrong bound on any one shows.
    run(37, 11, 29, 'time axis 0, heatmap rows along axis 1', { time: 0, mapRow: 1 });
    run(5, 23, 131, 'time axis 1, no heatmap', { time: 1, mapRow: null });
    run(7, 19, 97, 'no time axis, heatmap rows along axis 0', { time: null, mapRow: 0 });
  } finally {
    undo();
  }
  // A sample that misjudges: the scan keeps values for the buckets a sample (samplePlan's runs)
  // says hold the median, with room for 1.5 times their share of the sample. Here the sampled
  // differences spread over ten octaves and all the others sit in the median's bucket, so its
  // buffer passes the plan, the scan stops keeping after that chunk, and the select must gather.
  const n = 300 * 300;
  const { stride, run: len } = samplePlan(n);
  const e = Float64Array.from({ length: n }, rnd);
  const a = Float64Array.from(e, (x, i) => x + (i % stride < len ? 2 ** (-20 + (10 * i) / n) : 2 ** -15 * (1 + (i % 13) / 256)));
  check(a, e, [1, 300, 300], { rtol: 1.3e-6, atol: 1e-3, equalNan: false }, 'a keep buffer that overflows');
}));
