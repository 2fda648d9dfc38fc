// Error statistics and the statistic criterion, number for number against numpy: every expected
// value comes from test/fixtures/tolerance/stats.json, written by make_tolerance_fixtures.py (real
// PyTorch ports, numpy statistics). Plus the selection algorithm's own properties on data made to
// defeat its sample (compare/stats.ts): it must agree with sorting, whichever path it takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareTensors } from '../../src/compare/isclose.js';
import type { CheckResult } from '../../src/result.js';
import type { ErrorStat } from '../../src/compare/stats.js';
import { plainErrorHistogram } from './histogram.js';
import { medianAndQuantile, samplePlan, selectRanks } from '../../src/compare/kernel.js';
import { loadArrays } from '../../src/io/load.js';
import { ROOT } from '../helpers.js';

const DIR = join(ROOT, 'test', 'fixtures', 'tolerance');

interface Stats5 { max: number; mean: number; median: number; 'q0.5': number; 'q0.9': number; 'q0.99': number }
interface Comparison {
  name: string;
  actual: { file: string; array: string };
  expected: { file: string; array: string };
  n: number;
  abs: Stats5;
  rel: Stats5 & { n_used: number; n_excluded_zero_expected: number };
  rel_l2: number;
  cosine: number;
  isclose_mismatches: Record<string, number>;
  expected_abs: Stats5;
  gru_check_checks: [ErrorStat, number, number, number | null, boolean][];
}
const STATS = JSON.parse(readFileSync(join(DIR, 'stats.json'), 'utf8')) as {
  isclose_sets: Record<string, { rtol: number; atol: number }>;
  comparisons: Comparison[];
  synthetic: Comparison[];
  mean_threshold: { atol: number };
};
const ALL = [...STATS.comparisons, ...STATS.synthetic];

const arrays = new Map<string, { shape: number[]; data: ArrayLike<number> }>();
async function tensor(ref: { file: string; array: string }): Promise<{ shape: number[]; data: ArrayLike<number> }> {
  const key = `${ref.file}:${ref.array}`;
  if (!arrays.has(key)) {
    const b = await loadArrays(join(DIR, ref.file));
    for (const [name, arr] of b.arrays) if (arr.dtype !== 'unicode') arrays.set(`${ref.file}:${name}`, { shape: arr.shape, data: arr.data as ArrayLike<number> });
  }
  return arrays.get(key)!;
}

const target = { tensor: 'output' as const, subject: 'candidate' as const, against: 'expected' as const };

/** stats.json's tolerance_for_tests: float statistics to ~1e-12 relative (summation order differs). */
function close(got: number | null | undefined, want: number, what: string): void {
  assert.ok(typeof got === 'number', `${what}: got ${got}`);
  const tol = 1e-12 * Math.max(Math.abs(want), 1e-300);
  assert.ok(Math.abs(got - want) <= tol, `${what}: got ${got}, numpy ${want}`);
}

async function check(c: Comparison, o: { rtol: number; atol: number; errorQuantile?: number; checkErrorStat?: ErrorStat; minCosine?: number; maxRelL2?: number }): Promise<CheckResult> {
  const a = await tensor(c.actual);
  const e = await tensor(c.expected);
  // The synthetic arrays are 1-D; the ports' tensors keep their shape.
  return compareTensors(a, e, target, { equalNan: false, ...o });
}

test('every statistic of every port and synthetic pair agrees with numpy (stats.json)', async () => {
  for (const c of ALL) {
    for (const q of [0.5, 0.9, 0.99] as const) {
      const k = await check(c, { rtol: 1.3e-6, atol: 1e-5, errorQuantile: q });
      const w = `${c.name} (q ${q})`;
      assert.equal(k.total, c.n, w);
      close(k.maxAbsError, c.abs.max, `${w}: max abs`);
      close(k.meanAbsError, c.abs.mean, `${w}: mean abs`);
      close(k.medianAbsError, c.abs.median, `${w}: median abs`);
      close(k.quantileAbsError, c.abs[`q${q}`], `${w}: q${q} abs`);
      close(k.maxRelError, c.rel.max, `${w}: max rel`);
      close(k.medianRelError, c.rel.median, `${w}: median rel`);
      close(k.quantileRelError, c.rel[`q${q}`], `${w}: q${q} rel`);
      assert.equal(k.relCount, c.rel.n_used, `${w}: elements in the relative statistics`);
      close(k.relL2, c.rel_l2, `${w}: rel L2`);
      close(k.cosine, c.cosine, `${w}: cosine`);
      assert.equal(k.errorQuantile, q);
    }
  }
});

test('isclose mismatch counts at torch.testing\'s float32 / float16 / bfloat16 tolerances agree with numpy', async () => {
  for (const c of ALL) {
    for (const [set, { rtol, atol }] of Object.entries(STATS.isclose_sets)) {
      const k = await check(c, { rtol, atol });
      assert.equal(k.mismatched, c.isclose_mismatches[set], `${c.name} at ${set}`);
      assert.equal(k.pass, c.isclose_mismatches[set] === 0, `${c.name} at ${set}`);
    }
  }
});

test('the statistic rule: STAT(|a - e|) <= atol + rtol * STAT(|e|), every decision as numpy made it', async () => {
  let decided = 0;
  for (const c of ALL) {
    for (const [stat, atol, rtol, q, pass] of c.gru_check_checks) {
      const k = await check(c, { rtol, atol, checkErrorStat: stat, ...(q !== null ? { errorQuantile: q } : {}) });
      assert.equal(k.pass, pass, `${c.name}: ${stat} atol ${atol} rtol ${rtol}${q !== null ? ` q ${q}` : ''}`);
      assert.equal(k.checkErrorStat, stat);
      if (stat !== 'elemwise') {
        // The statistic of |e| it was scaled by, and the bound, are numpy's too.
        const key = (stat === 'quantile' ? `q${q}` : stat) as keyof Stats5;
        close(k.statExpected, c.expected_abs[key], `${c.name}: ${stat} of |e|`);
        close(k.statError, c.abs[key], `${c.name}: ${stat} of |a - e|`);
        close(k.statLimit, atol + rtol * c.expected_abs[key], `${c.name}: bound`);
        assert.equal(k.requiredAtol, Math.max(0, k.statError! - rtol * k.statExpected!));
      }
      decided++;
    }
  }
  assert.ok(decided >= 300, `${decided} decisions`);
});

test('one gross outlier passes --check-error-stat mean at atol 0.005, eight do not; both fail elemwise', async () => {
  const atol = STATS.mean_threshold.atol;
  const byName = (n: string): Comparison => STATS.comparisons.find((c) => c.name === n)!;
  const one = await check(byName('port_outlier1 vs expected: output'), { rtol: 1.3e-6, atol, checkErrorStat: 'mean' });
  const eight = await check(byName('port_outliers8 vs expected: output'), { rtol: 1.3e-6, atol, checkErrorStat: 'mean' });
  assert.deepEqual([one.pass, eight.pass], [true, false]);
  for (const n of ['port_outlier1 vs expected: output', 'port_outliers8 vs expected: output']) {
    assert.equal((await check(byName(n), { rtol: 1.3e-6, atol })).pass, false, `${n} elemwise`);
  }
});

test('distance criteria: --min-cosine and --max-rel-l2 on top of isclose', async () => {
  const c = STATS.comparisons.find((x) => x.name === 'port_int8 vs expected: output')!;
  const loose = { rtol: 1, atol: 1 };
  assert.equal((await check(c, { ...loose, maxRelL2: c.rel_l2 * 1.0001 })).pass, true);
  assert.equal((await check(c, { ...loose, maxRelL2: c.rel_l2 * 0.9999 })).pass, false);
  assert.equal((await check(c, { ...loose, minCosine: c.cosine - 1e-9 })).pass, true);
  assert.equal((await check(c, { ...loose, minCosine: 1 })).pass, false);
  const both = await check(c, { ...loose, maxRelL2: 0.1, minCosine: 0.99 });
  assert.deepEqual([both.pass, both.maxRelL2, both.minCosine], [true, 0.1, 0.99]);
});

test('zeros: equal zero vectors meet the distance criteria; a zero expected tensor has no rel L2', () => {
  const shape = [4];
  const z = [0, 0, 0, 0];
  const same = compareTensors({ shape, data: z }, { shape, data: z }, target, { rtol: 0, atol: 0, equalNan: false, minCosine: 0.999, maxRelL2: 1e-6, checkErrorStat: 'median' });
  assert.deepEqual([same.pass, same.relL2, same.cosine, same.medianAbsError, same.relCount], [true, null, null, 0, 0]);
  const off = compareTensors({ shape, data: [1, 0, 0, 0] }, { shape, data: z }, target, { rtol: 0, atol: 0, equalNan: false, maxRelL2: 1e9 });
  assert.deepEqual([off.pass, off.relL2, off.medianRelError], [false, null, null]);
});

test('NaN mismatches: no statistic can vouch for them', () => {
  const shape = [4];
  for (const stat of ['max', 'mean', 'median', 'quantile'] as const) {
    const k = compareTensors({ shape, data: [NaN, 1, 1, 1] }, { shape, data: [1, 1, 1, 1] }, target, { rtol: 1, atol: 1, equalNan: false, checkErrorStat: stat });
    assert.deepEqual([k.pass, k.requiredAtol, k.relL2, k.cosine, k.statError], [false, null, null, null, 0], stat);
  }
});

// -------------------------------------------------------------------------------------------------
// The selection itself (compare/stats.ts): exact whatever the data, never a sort of it.

/** Deterministic generator (a 32-bit LCG): the tests need variety, not randomness. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test('selectRanks returns what sorting would, on spread, tied, zero, subnormal and huge values', () => {
  const rnd = lcg(1);
  const gens: Record<string, (i: number) => number> = {
    uniform: () => rnd(),
    tiny: () => rnd() * 1e-300,
    subnormal: () => rnd() * 1e-310,
    zeros: () => 0,
    negZero: (i) => (i % 3 ? -0 : 2e-8),
    constant: () => 0.3,
    fourValues: () => [0, 1e-8, 2e-8, 0.5][Math.floor(rnd() * 4)]!,
    decades: () => Math.exp(-700 * rnd()),
    narrow: () => 1 + rnd() * 1e-12,
    huge: () => 1e308 * rnd(),
  };
  for (const n of [1, 2, 3, 100, 5000, 70001]) {
    for (const [name, g] of Object.entries(gens)) {
      const v = new Float64Array(n);
      const sorted = new Float64Array(n);
      for (let i = 0; i < n; i++) sorted[i] = (v[i] = g(i)) + 0;
      sorted.sort();
      const ranks = [0, n - 1, Math.floor((n - 1) / 2), Math.floor(n / 2), Math.floor(0.99 * (n - 1))];
      const got = selectRanks(v, n, ranks);
      ranks.forEach((r, i) => assert.equal(got[i]! + 0, sorted[r], `${name} n=${n} rank ${r}`));
    }
  }
});

test('median and quantile by selection equal numpy\'s on the synthetic arrays (stats.json)', () => {
  for (const c of STATS.synthetic) {
    const e = (c as unknown as { expected_values: number[] }).expected_values;
    const a = (c as unknown as { actual_values: number[] }).actual_values;
    const d = Float64Array.from(a, (x, i) => Math.abs(x - e[i]!));
    for (const q of [0.5, 0.9, 0.99] as const) {
      const mq = medianAndQuantile(d, d.length, q)!;
      assert.equal(mq.median, c.abs.median, `${c.name} median`);
      assert.equal(mq.quantile, c.abs[`q${q}`], `${c.name} q${q}`);
    }
  }
});

/** np.median / np.quantile ('linear') of sorted values: the oracle for data too big for stats.json. */
function sortedStats(s: Float64Array, q: number): { median: number; quantile: number } | null {
  const m = s.length;
  if (m === 0) return null;
  const median = m % 2 ? s[(m - 1) / 2]! : (s[m / 2 - 1]! + s[m / 2]!) / 2;
  const p = q * (m - 1);
  const lo = Math.floor(p);
  const hi = Math.min(lo + 1, m - 1);
  const t = p - lo;
  const diff = s[hi]! - s[lo]!;
  return { median, quantile: t >= 0.5 ? s[hi]! - diff * (1 - t) : s[lo]! + diff * t };
}

test('compareTensors\' statistics are exact also where its sample misjudges the data (the exact fallback)', () => {
  const rnd = lcg(7);
  // compare/kernel.ts samples the elements samplePlan(n) names (runs of 8 at a prime stride): there
  // "strideHidden" shows the sample only exact matches, so the scan keeps nothing and the gather
  // pass runs; decades spread the values over many buckets; "outliers" puts the quantile in a lone
  // far bucket.
  const plans = new Map<number, { stride: number; run: number }>();
  const sampled = (i: number, n: number): boolean => {
    if (!plans.has(n)) plans.set(n, samplePlan(n));
    const { stride, run } = plans.get(n)!;
    return i % stride < run;
  };
  const gens: Record<string, (i: number, n: number) => [number, number]> = {
    noise: () => { const e = rnd() - 0.5; return [e * (1 + 1e-6 * (rnd() - 0.5)), e]; },
    exact: () => { const e = rnd(); return [e, e]; },
    strideHidden: (i, n) => [sampled(i, n) ? 1 : 1 + rnd(), 1],
    expectedZeros: (i) => [rnd(), i % 3 ? 0 : rnd()],
    sortedErrors: (i, n) => [1 + i / n, 1],
    outliers: (i) => [i % 1000 === 0 ? 5 : 1 + 1e-7 * rnd(), 1],
    decades: () => [1 + Math.exp(-40 * rnd()), 1],
  };
  // Past 65536 elements the scan keeps the values the sample points at.
  const big = new Set(['strideHidden', 'noise', 'outliers', 'expectedZeros']);
  for (const [name, g] of Object.entries(gens)) {
    for (const n of [1, 5, 100, 16385, 65537, ...(big.has(name) ? [200003] : [])]) {
      // Plain loops into typed arrays: TypedArray.from with a callback took most of this test's time.
      const a = new Float64Array(n);
      const e = new Float64Array(n);
      const d = new Float64Array(n);
      const ae = new Float64Array(n);
      const rel = new Float64Array(n);
      let nr = 0;
      for (let i = 0; i < n; i++) {
        const [ai, ei] = g(i, n);
        a[i] = ai;
        e[i] = ei;
        d[i] = Math.abs(ai - ei);
        ae[i] = Math.abs(ei);
        if (ei !== 0) rel[nr++] = Math.abs(ai - ei) / Math.abs(ei);
      }
      d.sort();
      ae.sort();
      const r = rel.subarray(0, nr).sort();
      for (const [q, stat] of [[0.99, 'quantile'], [0.9, 'median']] as const) {
        const k = compareTensors({ shape: [n], data: a }, { shape: [n], data: e }, target, { rtol: 1e-3, atol: 1e-5, equalNan: false, errorQuantile: q, checkErrorStat: stat });
        const sa = sortedStats(d, q)!;
        const sr = sortedStats(r, q);
        const se = sortedStats(ae, q)!;
        const w = `${name} n=${n} q=${q}`;
        assert.deepEqual([k.medianAbsError, k.quantileAbsError], [sa.median, sa.quantile], `${w}: abs`);
        assert.deepEqual([k.medianRelError, k.quantileRelError], sr ? [sr.median, sr.quantile] : [null, null], `${w}: rel`);
        assert.equal(k.statExpected, stat === 'median' ? se.median : se.quantile, `${w}: |e|`);
      }
    }
  }
});

test('the |error| histogram counts every element in its octave, zeros apart', () => {
  const d = Float64Array.from([0, 0, 1, 1.5, 2, 3, 0.25, 1e-8, 5e-324]);
  const h = plainErrorHistogram(d, 2);
  // Octaves 2^-1023 (the subnormal 5e-324) .. 2^1: 1e-8 is in [2^-27, 2^-26).
  assert.equal(h.zeros, 2);
  assert.equal(h.minExp, -1023);
  assert.equal(h.counts.length, 1 - -1023 + 1);
  const at = (exp: number): number => h.counts[exp - h.minExp]!;
  assert.deepEqual([at(-1023), at(-27), at(-2), at(0), at(1)], [1, 1, 1, 2, 2]);
  assert.equal(h.counts.reduce((x, y) => x + y, 0), 7);
  // compareTensors reports the same histogram of its own differences.
  const k = compareTensors({ shape: [9], data: d }, { shape: [9], data: new Float64Array(9) }, target, { rtol: 0, atol: 0, equalNan: false });
  assert.deepEqual(k.errorHistogram, h);
});
