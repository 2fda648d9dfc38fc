/**
 * Measuring how far a tensor is from an expected one: plain numbers, no verdict (verdict.ts decides
 * pass from them). One pass of the compare kernel (compare/kernel.ts, in wasm) makes isclose's
 * mismatch count, the maxima, the sums, the per-step and heatmap maxima and, for the medians and
 * quantiles, the top-bits histograms of |a - e|, of the ratios and of |e|; a second pass gathers the
 * values of the buckets holding the wanted ranks (compare/stats.ts).
 *
 * Every error statistic is over the elements whose difference is finite; mismatches involving NaN
 * or an infinity are counted in nonFinite instead. Relative errors leave out the elements whose
 * expected value is 0 or so small that the ratio overflows.
 */
import { ABS, EXP, FINITE, FIRST_STEP, MAX_ABS, MAX_ABS_AT, MAX_ABS_E, MAX_REL, MAX_REL_AT, MISMATCHED, NON_FINITE, REL, REL_COUNT, REL_ZEROS, REQUIRED, SAME_INF, SUM_ABS, SUM_ABS_E, SUM_D2, SUM_E2, SUM_ED, ZEROS, ZERO_EXPECTED, scanTensors, type ScanResult } from './kernel.js';
import { medianQuantileFrom, medianQuantileRanks, octaveHistogramOf, type ErrorHistogram, type MedianQuantile } from './stats.js';

/** What to measure beyond the scan's sums: which axes summarise, which statistics to make. */
export interface MetricsRequest {
  atol: number;
  rtol: number;
  equalNan: boolean;
  /** q of the quantiles. */
  quantile: number;
  /** Medians and quantiles (a second pass over the data). */
  statistics: boolean;
  /** The order statistics of |e| too, and of |a - e| whatever `statistics` says (a median / quantile criterion needs them). */
  expected: boolean;
  /** The octave histogram of |a - e|. */
  histogram: boolean;
  /** The time axis (per-step maxima, first failing step); `stepMax`: make the maxima. */
  timeAxis?: number | undefined;
  stepMax: boolean;
  /** Heatmap rows along this axis, columns along the last; `map`: make the heatmap. */
  mapRowAxis?: number | undefined;
  map: boolean;
}

export interface Metrics {
  /** Elements compared. */
  n: number;
  mismatched: number;
  /** Mismatches where a or e is NaN or infinite. */
  nonFinite: number;
  zeroExpected: number;
  maxAbs: number;
  /** Flat index of maxAbs; -1: none. */
  maxAbsAt: number;
  maxRel: number;
  maxRelAt: number;
  /** Σ|a - e| and the elements it covers (the finite differences). */
  sumAbs: number;
  finiteCount: number;
  meanAbs: number;
  /** Elements in the sums and statistics: finite differences, less the matching infinities. */
  m: number;
  /** max |e| and Σ|e| over the m elements. */
  maxAbsExpected: number;
  sumAbsExpected: number;
  /** Smallest atol that passes at this rtol (isclose on every element). */
  required: number;
  /** First index along the time axis with a mismatch; -1: none. */
  firstStep: number;
  relCount: number;
  abs: MedianQuantile | null;
  rel: MedianQuantile | null;
  expected: MedianQuantile | null;
  /** Σ(a - e)² over the finite differences. */
  d2: number;
  relL2: number | null;
  cosine: number | null;
  histogram?: ErrorHistogram | undefined;
  stepMaxAbs: Float64Array | null;
  /** The heatmap's rows x cols maxima (row-major), and the axis the rows run along. */
  map: Float64Array | null;
  rows: number;
  cols: number;
  rowAxis: number | undefined;
}

const MAX = Number.MAX_VALUE;

/**
 * Σd², Σe² and Σe·(a - e) over the finite differences, scaled by a power of two near the largest
 * magnitude: for tensors whose squares overflow or underflow float64 in the scan's plain sums.
 */
function scaledSums(a: ArrayLike<number>, e: ArrayLike<number>, n: number): { d2: number; e2: number; ed: number } {
  let big = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(a[i]! - e[i]!);
    if (d <= MAX) big = Math.max(big, Math.abs(e[i]!), d);
  }
  const s = big > 0 ? 2 ** -Math.floor(Math.log2(big)) : 1;
  let d2 = 0, e2 = 0, ed = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]!, y = e[i]!;
    // (x - y)·s, not x·s - y·s: the difference is exact in float64 only before scaling.
    const ds = (x - y) * s;
    if (!(Math.abs(x - y) <= MAX)) continue;
    const ys = y * s;
    d2 += ds * ds;
    e2 += ys * ys;
    ed += ys * ds;
  }
  return { d2, e2, ed };
}

/** ||a - e|| / ||e|| and the cosine, from the scan's sums (rescaled when they left float64's range). */
function distances(a: ArrayLike<number>, e: ArrayLike<number>, n: number, st: Float64Array): Pick<Metrics, 'd2' | 'relL2' | 'cosine'> {
  const maxAbs = st[MAX_ABS]!;
  const nonFinite = st[NON_FINITE]!;
  let d2 = st[SUM_D2]!, e2 = st[SUM_E2]!, ed = st[SUM_ED]!;
  if (![d2, e2, ed].every(Number.isFinite) || (d2 === 0 && maxAbs > 0) || e2 === 0) ({ d2, e2, ed } = scaledSums(a, e, n));
  const a2 = e2 + 2 * ed + d2;
  const ae = e2 + ed;
  const relL2 = nonFinite > 0 || e2 === 0 ? null : Math.sqrt(d2) / Math.sqrt(e2);
  const cosine = nonFinite > 0 || !(a2 > 0) || e2 === 0 ? null : ae / (Math.sqrt(a2) * Math.sqrt(e2));
  return { d2, relL2, cosine };
}

/** Mean |a - e| over the finite differences; a running mean when the sum overflowed (differences near 1e308). */
function meanAbsOf(a: ArrayLike<number>, e: ArrayLike<number>, n: number, sumAbs: number, finiteCount: number): number {
  let meanAbs = finiteCount === 0 ? 0 : sumAbs / finiteCount;
  if (Number.isFinite(meanAbs)) return meanAbs;
  meanAbs = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(a[i]! - e[i]!);
    if (d <= MAX) meanAbs += (d - meanAbs) / ++k;
  }
  return meanAbs;
}

/** Medians and quantiles of |a - e|, of the ratios and of |e|, and the octave histogram of |a - e|. */
function orderStatistics(scan: ScanResult, m: number, q: number, withHistogram: boolean): Pick<Metrics, 'abs' | 'rel' | 'expected' | 'histogram'> {
  const st = scan.st;
  const relCount = st[REL_COUNT]!;
  const ranksAbs = medianQuantileRanks(m, q);
  const ranksRel = medianQuantileRanks(relCount, q);
  const pAbs = m > 0 ? scan.plan(ABS, m, ranksAbs, st[ZEROS]!) : null;
  const pRel = relCount > 0 ? scan.plan(REL, relCount, ranksRel, st[REL_ZEROS]!) : null;
  const pExp = m > 0 ? scan.plan(EXP, m, ranksAbs, -1) : null;
  // Before select(), which may grow the kernel's memory.
  const histogram = withHistogram ? octaveHistogramOf(scan.octaves(), st[ZEROS]!) : undefined;
  scan.select([pAbs, pRel, pExp]);
  return {
    abs: pAbs ? medianQuantileFrom(pAbs.out, m, q) : null,
    rel: pRel ? medianQuantileFrom(pRel.out, relCount, q) : null,
    expected: pExp ? medianQuantileFrom(pExp.out, m, q) : null,
    histogram,
  };
}

export function computeMetrics(a: ArrayLike<number>, e: ArrayLike<number>, shape: readonly number[], r: MetricsRequest): Metrics {
  const n = e.length;
  // The per-step and heatmap summaries are sized by axes, so they are only made where the element
  // count bounds them: an empty tensor may still declare a 2**40-long axis, and a row axis that is
  // also the column (last) axis would square the size.
  const timeAxis = n > 0 && r.timeAxis !== undefined && r.timeAxis < shape.length ? r.timeAxis : undefined;
  const rowAxis = n > 0 && r.mapRowAxis !== undefined && r.mapRowAxis < shape.length - 1 ? r.mapRowAxis : undefined;
  // Elements per step along the time axis, and steps: step of flat index i = floor(i / inner) % steps.
  const inner = timeAxis === undefined ? 1 : shape.slice(timeAxis + 1).reduce((x, y) => x * y, 1);
  const steps = timeAxis === undefined ? 0 : shape[timeAxis]!;
  const stats = r.statistics || r.expected;
  const rows = rowAxis === undefined ? 0 : shape[rowAxis]!;
  const cols = shape.length > 0 ? shape[shape.length - 1]! : 1;
  const scan = scanTensors(a, e, n, {
    atol: r.atol, rtol: r.rtol, equalNan: r.equalNan, stats, exp: r.expected, quantile: r.quantile,
    time: timeAxis === undefined ? undefined : { inner, steps, max: r.stepMax },
    map: rowAxis !== undefined && r.map ? { R: rows, C: cols, QC: shape.slice(rowAxis + 1, shape.length).reduce((x, y) => x * y, 1) } : undefined,
  });
  const st = scan.st;
  const finiteCount = st[FINITE]!;
  const m = finiteCount - st[SAME_INF]!;
  const order = orderStatistics(scan, m, r.quantile, r.histogram);
  return {
    n,
    mismatched: st[MISMATCHED]!,
    nonFinite: st[NON_FINITE]!,
    zeroExpected: st[ZERO_EXPECTED]!,
    maxAbs: st[MAX_ABS]!,
    maxAbsAt: st[MAX_ABS_AT]!,
    maxRel: st[MAX_REL]!,
    maxRelAt: st[MAX_REL_AT]!,
    sumAbs: st[SUM_ABS]!,
    finiteCount,
    meanAbs: meanAbsOf(a, e, n, st[SUM_ABS]!, finiteCount),
    m,
    maxAbsExpected: st[MAX_ABS_E]!,
    sumAbsExpected: st[SUM_ABS_E]!,
    required: st[REQUIRED]!,
    firstStep: st[FIRST_STEP]!,
    relCount: st[REL_COUNT]!,
    ...order,
    ...distances(a, e, n, st),
    stepMaxAbs: scan.stepMax,
    map: scan.map,
    rows,
    cols,
    rowAxis,
  };
}
