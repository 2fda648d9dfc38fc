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

import type { CheckResult } from '../result.js';
import { computeMetrics, type Metrics } from './metrics.js';
import { DEFAULT_ERROR_QUANTILE, type ErrorHistogram, type ErrorStat } from './stats.js';
import { decideVerdict } from './verdict.js';
import { sameShape } from '../model/arrays.js';

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


/** The statistics of a check that has none (a shape problem). */
const NO_STATS = { medianAbsError: null, quantileAbsError: null, medianRelError: null, quantileRelError: null, relCount: 0, relL2: null, cosine: null } as const;

type Criteria = Pick<CheckResult, 'checkErrorStat' | 'errorQuantile' | 'minCosine' | 'maxRelL2'>;
type Identity = Pick<CheckResult, 'tensor' | 'subject' | 'against' | 'atol' | 'rtol'>;

/** A check that cannot be made element by element: every element counts as mismatched. */
function shapeProblem(actual: readonly number[], expected: { shape: number[]; data: ArrayLike<number> }, target: CheckTarget, base: Identity, criteria: Criteria): CheckResult {
  const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;
  return {
    ...base, pass: false, shape: expected.shape, total: expected.data.length, mismatched: expected.data.length,
    maxAbsError: null, maxAbsIndex: null, maxRelError: null, maxRelIndex: null, meanAbsError: null, requiredAtol: null,
    firstMismatchStep: null, nonFiniteMismatched: 0, zeroExpected: 0,
    ...NO_STATS, ...criteria, ...(criteria.checkErrorStat === 'elemwise' ? {} : { statError: null, statExpected: null, statLimit: null }),
    problem: `shape mismatch: expected ${fmt(expected.shape)} (${target.against} ${target.tensor}), got ${fmt(actual)} (${target.subject})`,
  };
}

/** The check's result from its metrics and verdict, in the result's field order. */
function checkResult(base: Identity, shape: number[], k: Metrics, criteria: Criteria, target: CheckTarget, o: CompareOptions): CheckResult {
  const v = decideVerdict(k, { rtol: o.rtol, atol: o.atol, checkErrorStat: criteria.checkErrorStat!, minCosine: o.minCosine, maxRelL2: o.maxRelL2 });
  const result: CheckResult = {
    ...base,
    pass: v.pass,
    shape,
    total: k.n,
    mismatched: k.mismatched,
    maxAbsError: k.maxAbs,
    maxAbsIndex: k.maxAbsAt >= 0 ? unravel(k.maxAbsAt, shape) : null,
    maxRelError: k.maxRel,
    maxRelIndex: k.maxRelAt >= 0 ? unravel(k.maxRelAt, shape) : null,
    meanAbsError: k.meanAbs,
    requiredAtol: v.requiredAtol,
    firstMismatchStep: k.firstStep >= 0 ? k.firstStep : null,
    nonFiniteMismatched: k.nonFinite,
    zeroExpected: k.zeroExpected,
    medianAbsError: k.abs ? k.abs.median : null,
    quantileAbsError: k.abs ? k.abs.quantile : null,
    medianRelError: k.rel ? k.rel.median : null,
    quantileRelError: k.rel ? k.rel.quantile : null,
    relCount: k.relCount,
    relL2: k.relL2,
    cosine: k.cosine,
    ...criteria,
    ...v.stat,
  };
  if (k.histogram) result.errorHistogram = k.histogram;
  if (k.stepMaxAbs) result.stepMaxAbs = Array.from(k.stepMaxAbs);
  if (k.map) result.errorMap = { rows: k.rows, cols: k.cols, rowLabel: target.mapRowLabel ?? `axis ${k.rowAxis}`, colLabel: target.mapColLabel ?? 'last axis', values: Array.from(k.map) };
  return result;
}

/** Compares `actual` with `expected`: the metrics (metrics.ts), then the verdict (verdict.ts). */
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
  if (!sameShape(actual.shape, expected.shape)) return shapeProblem(actual.shape, expected, target, base, criteria);
  const statistics = target.statistics !== false;
  const metrics = computeMetrics(actual.data, expected.data, expected.shape, {
    atol: o.atol, rtol: o.rtol, equalNan: o.equalNan, quantile: q,
    statistics,
    expected: stat === 'median' || stat === 'quantile',
    histogram: statistics && target.histogram !== false,
    timeAxis: target.timeAxis,
    stepMax: target.stepErrors !== false,
    mapRowAxis: target.mapRowAxis,
    map: target.errorMap !== false,
  });
  return checkResult(base, expected.shape, metrics, criteria, target, o);
}
