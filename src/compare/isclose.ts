/**
 * Element-wise comparison of a computed tensor with a reference one -> a plain, serialisable check
 * result. The rule is numpy/torch isclose: close iff |a - e| <= atol + rtol * |e|; NaN is close to
 * NaN only with equalNan; an infinity is close only to the same infinity (unlike tfjs's areClose,
 * which calls any two non-finite values close).
 *
 * Error metrics are honest about what they cover: maxAbsError / maxRelError / meanAbsError are
 * over elements whose difference is finite; mismatches involving NaN or an infinity are counted in
 * nonFiniteMismatched instead (and then no atol can pass: requiredAtol is null). The relative
 * error skips elements whose expected value is 0 (it is infinite there) and says how many it
 * skipped in zeroExpected (with those whose expected value is so small, subnormal, that the ratio
 * overflows). Indices are in the tensor's own axis order.
 */

export interface CompareOptions {
  rtol: number;
  atol: number;
  equalNan: boolean;
}

export interface CheckResult {
  tensor: 'output' | 'h_n';
  subject: 'reference' | 'candidate';
  against: 'expected' | 'reference';
  pass: boolean;
  shape: number[];
  total: number;
  mismatched: number;
  maxAbsError: number;
  maxAbsIndex: number[] | null;
  maxRelError: number;
  maxRelIndex: number[] | null;
  meanAbsError: number;
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
  /** Max |a - e| per time step (output only), for the drift sparkline. */
  stepMaxAbs?: number[];
  /**
   * Max |a - e| over every axis but two, for the heatmap: output -> rows = time steps, cols =
   * features (D*H); h_n -> rows = layer*direction, cols = hidden units. values is row-major.
   */
  errorMap?: { rows: number; cols: number; rowLabel: string; colLabel: string; values: number[] };
  /** Set when the check could not be made element-wise, e.g. shapes disagree. */
  error?: string;
  /** Set with --baseline: the recorded error and whether this run regressed past factor × it. */
  baseline?: { recorded: number; factor: number; limit: number; regressed: boolean };
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

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

export function compareTensors(
  actual: { shape: number[]; data: ArrayLike<number> },
  expected: { shape: number[]; data: ArrayLike<number> },
  target: CheckTarget,
  o: CompareOptions,
): CheckResult {
  const base = { tensor: target.tensor, subject: target.subject, against: target.against, atol: o.atol, rtol: o.rtol };
  if (!sameShape(actual.shape, expected.shape)) {
    const fmt = (s: number[]): string => `[${s.join(', ')}]`;
    return {
      ...base, pass: false, shape: expected.shape, total: expected.data.length, mismatched: expected.data.length,
      maxAbsError: 0, maxAbsIndex: null, maxRelError: 0, maxRelIndex: null, meanAbsError: 0, requiredAtol: null,
      firstMismatchStep: null, nonFiniteMismatched: 0, zeroExpected: 0,
      error: `shape mismatch: ${target.subject} ${target.tensor} is ${fmt(actual.shape)}, ${target.against} is ${fmt(expected.shape)}`,
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
  // Size of one step along the time axis, and how many steps, for firstMismatchStep / stepMaxAbs.
  const inner = timeAxis === undefined ? 1 : shape.slice(timeAxis + 1).reduce((x, y) => x * y, 1);
  const steps = timeAxis === undefined ? 0 : shape[timeAxis]!;
  const stepMaxAbs = timeAxis === undefined ? undefined : new Array<number>(steps).fill(0);

  const rowAxis = n > 0 && target.mapRowAxis !== undefined && target.mapRowAxis < shape.length - 1 ? target.mapRowAxis : undefined;
  const cols = shape.length > 0 ? shape[shape.length - 1]! : 1;
  const rowInner = rowAxis === undefined ? 1 : shape.slice(rowAxis + 1).reduce((x, y) => x * y, 1);
  const rows = rowAxis === undefined ? 0 : shape[rowAxis]!;
  const map = rowAxis === undefined ? undefined : new Array<number>(rows * cols).fill(0);

  let mismatched = 0;
  let nonFinite = 0;
  let zeroExpected = 0;
  let maxAbs = 0;
  let maxAbsAt = -1;
  let maxRel = 0;
  let maxRelAt = -1;
  let sumAbs = 0;
  let finiteCount = 0;
  // Fallback for when sumAbs overflows (float64 differences near 1e308): a mean cannot.
  let runningMean = 0;
  let required = 0;
  let firstStep: number | null = null;
  for (let i = 0; i < n; i++) {
    const ai = a[i]!;
    const ei = e[i]!;
    const close = isClose(ai, ei, o);
    const step = timeAxis === undefined ? -1 : Math.floor(i / inner) % steps;
    if (!close) {
      mismatched++;
      if (step >= 0 && (firstStep === null || step < firstStep)) firstStep = step;
    }
    const d = ai === ei ? 0 : Math.abs(ai - ei);
    if (!Number.isFinite(d)) {
      // NaN vs NaN (equal or not) and inf vs same inf carry no finite difference.
      if (!close) nonFinite++;
      continue;
    }
    finiteCount++;
    sumAbs += d;
    runningMean += (d - runningMean) / finiteCount;
    if (d > maxAbs || maxAbsAt < 0) {
      maxAbs = d;
      maxAbsAt = i;
    }
    if (stepMaxAbs && d > stepMaxAbs[step]!) stepMaxAbs[step] = d;
    if (map) {
      const cell = (Math.floor(i / rowInner) % rows) * cols + (i % cols);
      if (d > map[cell]!) map[cell] = d;
    }
    // A subnormal expected value can make d / |e| overflow to Infinity just as 0 does: both are
    // left out of maxRelError (which stays finite) and counted in zeroExpected.
    const r = ei !== 0 ? d / Math.abs(ei) : Infinity;
    if (r !== Infinity) {
      if (r > maxRel || maxRelAt < 0) {
        maxRel = r;
        maxRelAt = i;
      }
    } else if (d !== 0) {
      zeroExpected++;
    }
    const need = d - o.rtol * Math.abs(ei);
    if (need > required) required = need;
  }
  const result: CheckResult = {
    ...base,
    pass: mismatched === 0,
    shape,
    total: n,
    mismatched,
    maxAbsError: maxAbs,
    maxAbsIndex: maxAbsAt >= 0 ? unravel(maxAbsAt, shape) : null,
    maxRelError: maxRel,
    maxRelIndex: maxRelAt >= 0 ? unravel(maxRelAt, shape) : null,
    meanAbsError: finiteCount === 0 ? 0 : Number.isFinite(sumAbs) ? sumAbs / finiteCount : runningMean,
    requiredAtol: nonFinite > 0 ? null : required,
    firstMismatchStep: firstStep,
    nonFiniteMismatched: nonFinite,
    zeroExpected,
  };
  if (stepMaxAbs) result.stepMaxAbs = stepMaxAbs;
  if (map) result.errorMap = { rows, cols, rowLabel: target.mapRowLabel ?? `axis ${rowAxis}`, colLabel: target.mapColLabel ?? 'last axis', values: map };
  return result;
}
