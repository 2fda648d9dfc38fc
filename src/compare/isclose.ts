/**
 * Comparison of a computed tensor with a reference one -> a plain, serialisable check result.
 *
 * Pass is decided by one of two rules (CompareOptions.checkErrorStat), plus optional distance
 * criteria:
 *   elemwise (default)  numpy/torch isclose on every element: |a - e| <= atol + rtol * |e|; NaN is
 *                       close to NaN only with equalNan; an infinity is close only to the same
 *                       infinity (unlike tfjs's areClose, which calls any two non-finite values close).
 *   max|mean|median|quantile
 *                       STAT(|a - e|) <= atol + rtol * STAT(|e|): one statistic of the error held to
 *                       isclose's additive bound taken on the same statistic of the expected values,
 *                       over the elements with a finite difference; any NaN/inf mismatch fails it.
 *                       (Polygraphy's CompareFunc.simple differs: it passes when STAT(|a - e|) <= atol
 *                       OR STAT(|a - e| / |e|) <= rtol; see compare/tolerance.ts.)
 *   minCosine / maxRelL2  cosine(a, e) >= minCosine, ||a - e|| / ||e|| <= maxRelL2, on top.
 *
 * Error metrics are honest about what they cover: every error statistic is over the elements whose
 * difference is finite; mismatches involving NaN or an infinity are counted in nonFiniteMismatched
 * instead (and then no atol can pass: requiredAtol is null, relL2 and cosine are null). Relative
 * errors |a - e| / |e| leave out the elements whose expected value is 0 (the ratio is infinite or
 * undefined there), and those so small (subnormal) that the ratio overflows; zeroExpected counts
 * the ones among them with a non-zero difference. Medians and quantiles are numpy's (np.median,
 * np.quantile's default 'linear' method), found by a radix select (compare/stats.ts), not a sort.
 * Indices are in the tensor's own axis order.
 */

import type { BaselineVerdict } from '../baseline.js';
import { ABS, EXP, FINITE, FIRST_STEP, MAX_ABS, MAX_ABS_AT, MAX_ABS_E, MAX_REL, MAX_REL_AT, MISMATCHED, NON_FINITE, REL, REL_COUNT, REL_ZEROS, REQUIRED, SAME_INF, SUM_ABS, SUM_ABS_E, SUM_D2, SUM_E2, SUM_ED, ZEROS, ZERO_EXPECTED, scanTensors } from './kernel.js';
import { DEFAULT_ERROR_QUANTILE, medianQuantileFrom, medianQuantileRanks, octaveHistogramOf, type ErrorHistogram, type ErrorStat } from './stats.js';

export interface CompareOptions {
  rtol: number;
  atol: number;
  equalNan: boolean;
  /** How pass is decided; default 'elemwise' (isclose on every element). */
  checkErrorStat?: ErrorStat | undefined;
  /** q of the reported quantiles and of checkErrorStat 'quantile'; default 0.99. */
  errorQuantile?: number | undefined;
  /** Also require cosine(a, e) >= this. */
  minCosine?: number | undefined;
  /** Also require ||a - e|| / ||e|| <= this. */
  maxRelL2?: number | undefined;
}

export interface CheckResult {
  tensor: 'output' | 'h_n';
  subject: 'reference' | 'candidate';
  against: 'expected' | 'reference';
  pass: boolean;
  shape: number[];
  total: number;
  mismatched: number;
  /** null when the check could not be made element by element (see problem). */
  maxAbsError: number | null;
  maxAbsIndex: number[] | null;
  maxRelError: number | null;
  maxRelIndex: number[] | null;
  meanAbsError: number | null;
  atol: number;
  rtol: number;
  /** Smallest atol that passes at this rtol; null when no atol can (NaN/inf mismatches). */
  requiredAtol: number | null;
  /** First index along the time axis with a mismatch (output only); null if none. */
  firstMismatchStep: number | null;
  /** Mismatches where a or e is NaN or infinite. */
  nonFiniteMismatched: number;
  /**
   * Elements left out of maxRelError because the expected value is 0 (or so small that the relative
   * error overflows to infinity) and the difference is not.
   */
  zeroExpected: number;
  /**
   * Error statistics, set by compareTensors on every check (null where the check has a problem or
   * no element has a finite difference). Medians and quantiles are np.median / np.quantile
   * ('linear'); `Rel` ones are of |a - e| / |e| over the relCount elements with e != 0 (elements
   * with e == 0 are left out whatever a is).
   */
  medianAbsError?: number | null;
  /** np.quantile(|a - e|, errorQuantile). */
  quantileAbsError?: number | null;
  medianRelError?: number | null;
  quantileRelError?: number | null;
  /** Elements in the relative statistics: e != 0 and a finite ratio. */
  relCount?: number;
  /** The q of quantileAbsError / quantileRelError (and of checkErrorStat 'quantile'). */
  errorQuantile?: number;
  /** ||a - e||_2 / ||e||_2; null when ||e|| = 0. */
  relL2?: number | null;
  /** a.e / (||a||_2 ||e||_2); null when either norm is 0. */
  cosine?: number | null;
  /** How pass was decided: 'elemwise' (isclose on every element) or a statistic (statError...). */
  checkErrorStat?: ErrorStat;
  /** With a statistic: STAT(|a - e|), STAT(|e|), and the bound atol + rtol * STAT(|e|) it was held to. */
  statError?: number | null;
  statExpected?: number | null;
  statLimit?: number | null;
  /** Extra pass criteria in force (CompareOptions.minCosine / maxRelL2). */
  minCosine?: number;
  maxRelL2?: number;
  /** |a - e| per octave (compare/stats.ts), for the histograms; not in --format json. */
  errorHistogram?: ErrorHistogram;
  /** Max |a - e| per time step (output only), for the drift sparkline. */
  stepMaxAbs?: number[];
  /**
   * Max |a - e| over every axis but two, for the heatmap: output -> rows = time steps, cols =
   * features (D*H); h_n -> rows = layer*direction, cols = hidden units. values is row-major.
   */
  errorMap?: { rows: number; cols: number; rowLabel: string; colLabel: string; values: number[] };
  /**
   * Set when the check could not be made element by element: "shape mismatch: expected [..], got
   * [..]". Then pass is false, every element counts as mismatched and the error metrics are null.
   */
  problem?: string;
  /** Set when the check covers part of the tensor: 'last layer' (a candidate's final states of the last layer only). */
  part?: string;
  /** The tensor's own name when not `tensor`'s: 'h', a GRUCell's output (checked as `output`). */
  label?: string;
  /** Set with --baseline: the recorded error and whether this run regressed past factor × it. */
  baseline?: BaselineVerdict;
}

export interface CheckTarget {
  tensor: 'output' | 'h_n';
  subject: 'reference' | 'candidate';
  against: 'expected' | 'reference';
  /** Which axis of the tensor is time (output only). */
  timeAxis?: number | undefined;
  /** Heatmap axes: rows along this axis, columns along the last; max over the others. */
  mapRowAxis?: number | undefined;
  mapRowLabel?: string;
  mapColLabel?: string;
  /** false: skip stepMaxAbs (only the table's sparkline and the HTML plot use it). */
  stepErrors?: boolean | undefined;
  /** false: skip errorMap (only the HTML heatmap uses it). */
  errorMap?: boolean | undefined;
  /**
   * false: skip the medians, quantiles and the histogram (a second pass over the data) unless the
   * criterion needs them. Sums (means, rel L2, cosine) are always made: they are free in the scan.
   */
  statistics?: boolean | undefined;
  /** false: skip errorHistogram (only the table's line for a failing check and the HTML draw it). */
  histogram?: boolean | undefined;
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    idx[i] = flat % d;
    flat = Math.floor(flat / d);
  }
  return idx;
}

export function isClose(a: number, e: number, o: CompareOptions): boolean {
  if (a === e) return true; // also equal infinities
  if (Number.isNaN(a) || Number.isNaN(e)) return o.equalNan && Number.isNaN(a) && Number.isNaN(e);
  if (!Number.isFinite(a) || !Number.isFinite(e)) return false;
  return Math.abs(a - e) <= o.atol + o.rtol * Math.abs(e);
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

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** The statistics of a check that has none (a shape problem). */
const NO_STATS = { medianAbsError: null, quantileAbsError: null, medianRelError: null, quantileRelError: null, relCount: 0, relL2: null, cosine: null } as const;

export function compareTensors(
  actual: { shape: number[]; data: ArrayLike<number> },
  expected: { shape: number[]; data: ArrayLike<number> },
  target: CheckTarget,
  o: CompareOptions,
): CheckResult {
  const stat = o.checkErrorStat ?? 'elemwise';
  const q = o.errorQuantile ?? DEFAULT_ERROR_QUANTILE;
  const base = { tensor: target.tensor, subject: target.subject, against: target.against, atol: o.atol, rtol: o.rtol };
  const criteria = {
    checkErrorStat: stat,
    errorQuantile: q,
    ...(o.minCosine !== undefined ? { minCosine: o.minCosine } : {}),
    ...(o.maxRelL2 !== undefined ? { maxRelL2: o.maxRelL2 } : {}),
  };
  if (!sameShape(actual.shape, expected.shape)) {
    const fmt = (s: number[]): string => `[${s.join(', ')}]`;
    return {
      ...base, pass: false, shape: expected.shape, total: expected.data.length, mismatched: expected.data.length,
      maxAbsError: null, maxAbsIndex: null, maxRelError: null, maxRelIndex: null, meanAbsError: null, requiredAtol: null,
      firstMismatchStep: null, nonFiniteMismatched: 0, zeroExpected: 0,
      ...NO_STATS, ...criteria, ...(stat === 'elemwise' ? {} : { statError: null, statExpected: null, statLimit: null }),
      problem: `shape mismatch: expected ${fmt(expected.shape)} (${target.against} ${target.tensor}), got ${fmt(actual.shape)} (${target.subject})`,
    };
  }
  const shape = expected.shape;
  const n = expected.data.length;
  const a = actual.data;
  const e = expected.data;
  // The per-step and heatmap summaries are sized by axes, so they are only made where the element
  // count bounds them: an empty tensor may still declare a 2**40-long axis, and a row axis that is
  // also the column (last) axis would square the size.
  const timeAxis = n > 0 && target.timeAxis !== undefined && target.timeAxis < shape.length ? target.timeAxis : undefined;
  const rowAxis = n > 0 && target.mapRowAxis !== undefined && target.mapRowAxis < shape.length - 1 ? target.mapRowAxis : undefined;
  // Elements per step along the time axis, and steps: step of flat index i = floor(i / inner) % steps.
  const inner = timeAxis === undefined ? 1 : shape.slice(timeAxis + 1).reduce((x, y) => x * y, 1);
  const steps = timeAxis === undefined ? 0 : shape[timeAxis]!;
  // One pass of the compare kernel (compare/kernel.ts, in wasm) makes isclose, the metrics, the
  // sums, the per-step and heatmap maxima and, for the medians and quantiles, the top-bits
  // histograms of |a - e|, of the ratios and (for a median / quantile criterion) of |e|; a second
  // pass gathers the values of the buckets holding the wanted ranks (compare/stats.ts).
  const statistics = target.statistics !== false;
  const orderStat = stat === 'median' || stat === 'quantile';
  const stats = statistics || orderStat;
  const prod = (from: number, to: number): number => shape.slice(from, to).reduce((x, y) => x * y, 1);
  const wantMap = rowAxis !== undefined && target.errorMap !== false;
  const rows = rowAxis === undefined ? 0 : shape[rowAxis]!;
  const cols = shape.length > 0 ? shape[shape.length - 1]! : 1;
  const scan = scanTensors(a, e, n, {
    atol: o.atol, rtol: o.rtol, equalNan: o.equalNan, stats, exp: orderStat, quantile: q,
    time: timeAxis === undefined ? undefined : { inner, steps, max: target.stepErrors !== false },
    map: wantMap ? { R: rows, C: cols, QC: prod(rowAxis! + 1, shape.length) } : undefined,
  });
  const st = scan.st;
  const mismatched = st[MISMATCHED]!;
  const nonFinite = st[NON_FINITE]!;
  const zeroExpected = st[ZERO_EXPECTED]!;
  const maxAbs = st[MAX_ABS]!;
  const maxAbsAt = st[MAX_ABS_AT]!;
  const maxRel = st[MAX_REL]!;
  const maxRelAt = st[MAX_REL_AT]!;
  const sumAbs = st[SUM_ABS]!;
  const finiteCount = st[FINITE]!;
  const required = st[REQUIRED]!;
  const firstStep = st[FIRST_STEP]!;
  const relCount = st[REL_COUNT]!;
  // Elements in the sums and statistics: finite differences, less the matching infinities.
  const m = finiteCount - st[SAME_INF]!;

  const ranksAbs = medianQuantileRanks(m, q);
  const ranksRel = medianQuantileRanks(relCount, q);
  const pAbs = m > 0 ? scan.plan(ABS, m, ranksAbs, st[ZEROS]!) : null;
  const pRel = relCount > 0 ? scan.plan(REL, relCount, ranksRel, st[REL_ZEROS]!) : null;
  const pExp = m > 0 ? scan.plan(EXP, m, ranksAbs, -1) : null;
  const histogram = statistics && target.histogram !== false ? octaveHistogramOf(scan.octaves(), st[ZEROS]!) : undefined;
  scan.select([pAbs, pRel, pExp]);
  const absMQ = pAbs ? medianQuantileFrom(pAbs.out, m, q) : null;
  const relMQ = pRel ? medianQuantileFrom(pRel.out, relCount, q) : null;
  const expMQ = pExp ? medianQuantileFrom(pExp.out, m, q) : null;

  let d2 = st[SUM_D2]!, e2 = st[SUM_E2]!, ed = st[SUM_ED]!;
  if (![d2, e2, ed].every(Number.isFinite) || (d2 === 0 && maxAbs > 0) || e2 === 0) ({ d2, e2, ed } = scaledSums(a, e, n));
  const a2 = e2 + 2 * ed + d2;
  const ae = e2 + ed;
  const relL2 = nonFinite > 0 || e2 === 0 ? null : Math.sqrt(d2) / Math.sqrt(e2);
  const cosine = nonFinite > 0 || !(a2 > 0) || e2 === 0 ? null : ae / (Math.sqrt(a2) * Math.sqrt(e2));

  const stepMaxAbs = scan.stepMax;
  const map = scan.map;
  let meanAbs = finiteCount === 0 ? 0 : sumAbs / finiteCount;
  if (!Number.isFinite(meanAbs)) {
    // The sum overflowed (float64 differences near 1e308): a running mean cannot.
    meanAbs = 0;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(a[i]! - e[i]!);
      if (d <= MAX) meanAbs += (d - meanAbs) / ++k;
    }
  }

  // The criterion: isclose on every element, or one statistic against isclose's bound on the same
  // statistic of |e|; then the distance criteria.
  let pass = mismatched === 0;
  let requiredAtol: number | null = nonFinite > 0 ? null : required;
  const statFields: Pick<CheckResult, 'statError' | 'statExpected' | 'statLimit'> = {};
  if (stat !== 'elemwise') {
    let err: number | null = null;
    let exp: number | null = null;
    if (m > 0) {
      if (stat === 'max') [err, exp] = [maxAbs, st[MAX_ABS_E]!];
      else if (stat === 'mean') [err, exp] = [m === finiteCount ? meanAbs : sumAbs / m, st[SUM_ABS_E]! / m];
      else if (stat === 'median') [err, exp] = [absMQ!.median, expMQ!.median];
      else [err, exp] = [absMQ!.quantile, expMQ!.quantile];
      if (!Number.isFinite(exp)) exp = MAX; // |e| summed past float64: the bound is as loose as it gets
    }
    const limit = exp === null ? null : o.atol + o.rtol * exp;
    Object.assign(statFields, { statError: err, statExpected: exp, statLimit: limit });
    pass = nonFinite === 0 && (err === null || err <= limit!);
    requiredAtol = nonFinite > 0 ? null : err === null ? 0 : Math.max(0, err - o.rtol * exp!);
  }
  // Zero vectors have no cosine and no relative L2: equal ones still meet the criterion.
  const same = nonFinite === 0 && d2 === 0;
  if (o.minCosine !== undefined && !(cosine !== null ? cosine >= o.minCosine : same)) pass = false;
  if (o.maxRelL2 !== undefined && !(relL2 !== null ? relL2 <= o.maxRelL2 : same)) pass = false;

  const result: CheckResult = {
    ...base,
    pass,
    shape,
    total: n,
    mismatched,
    maxAbsError: maxAbs,
    maxAbsIndex: maxAbsAt >= 0 ? unravel(maxAbsAt, shape) : null,
    maxRelError: maxRel,
    maxRelIndex: maxRelAt >= 0 ? unravel(maxRelAt, shape) : null,
    meanAbsError: meanAbs,
    requiredAtol,
    firstMismatchStep: firstStep >= 0 ? firstStep : null,
    nonFiniteMismatched: nonFinite,
    zeroExpected,
    medianAbsError: absMQ ? absMQ.median : null,
    quantileAbsError: absMQ ? absMQ.quantile : null,
    medianRelError: relMQ ? relMQ.median : null,
    quantileRelError: relMQ ? relMQ.quantile : null,
    relCount,
    relL2,
    cosine,
    ...criteria,
    ...statFields,
  };
  if (histogram) result.errorHistogram = histogram;
  if (stepMaxAbs) result.stepMaxAbs = Array.from(stepMaxAbs);
  if (map) result.errorMap = { rows, cols, rowLabel: target.mapRowLabel ?? `axis ${rowAxis}`, colLabel: target.mapColLabel ?? 'last axis', values: Array.from(map) };
  return result;
}
