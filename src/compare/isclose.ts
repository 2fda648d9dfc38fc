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

import type { BaselineVerdict } from '../baseline.js';

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
/** Below this |e| a ratio d / |e| may overflow: always computed exactly there. */
const TINY = 1e-290;

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
      maxAbsError: null, maxAbsIndex: null, maxRelError: null, maxRelIndex: null, meanAbsError: null, requiredAtol: null,
      firstMismatchStep: null, nonFiniteMismatched: 0, zeroExpected: 0,
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
  if (timeAxis !== undefined && rowAxis !== undefined && timeAxis !== rowAxis) throw new Error('compareTensors: the heatmap rows must run along the time axis');
  // The tensor as [P, R, Q, C]: R along the time / heatmap-row axis, C the last axis (the heatmap's
  // columns), P and Q the axes before and between. Nested loops over these keep every index a sum,
  // where a division per element cost more than the comparison itself.
  const axis = timeAxis ?? rowAxis;
  const last = shape.length - 1;
  const prod = (from: number, to: number): number => shape.slice(from, to).reduce((x, y) => x * y, 1);
  const R = axis === undefined ? 1 : shape[axis]!;
  const C = axis === undefined || axis === last ? Math.max(1, n) : shape[last]!;
  const Q = axis === undefined || axis === last ? 1 : prod(axis + 1, last);
  const P = n === 0 ? 0 : axis === undefined ? 1 : prod(0, axis);
  const stepMaxAbs = timeAxis === undefined ? undefined : new Float64Array(R);
  const cols = shape.length > 0 ? shape[last]! : 1;
  const map = rowAxis === undefined ? undefined : new Float64Array(R * cols);

  const { atol, rtol } = o;
  let mismatched = 0;
  let nonFinite = 0;
  let zeroExpected = 0;
  let maxAbs = 0;
  let maxAbsAt = -1;
  let maxRel = 0;
  let maxRelAt = -1;
  let sumAbs = 0;
  let finiteCount = 0;
  let required = 0;
  let firstStep = -1;
  for (let p = 0; p < P; p++) {
    for (let r = 0; r < R; r++) {
      for (let q = 0; q < Q; q++) {
        const i0 = ((p * R + r) * Q + q) * C;
        for (let c = 0; c < C; c++) {
          const i = i0 + c;
          const ai = a[i]!;
          const ei = e[i]!;
          let d = ai - ei;
          if (d < 0) d = -d;
          if (d <= MAX) {
            // Both finite and so is their difference: isclose is |a - e| <= atol + rtol·|e|.
            const ae = ei < 0 ? -ei : ei;
            if (!(d <= atol + rtol * ae)) {
              mismatched++;
              if (stepMaxAbs && (firstStep < 0 || r < firstStep)) firstStep = r;
            }
            finiteCount++;
            sumAbs += d;
            if (d > maxAbs || maxAbsAt < 0) {
              maxAbs = d;
              maxAbsAt = i;
            }
            if (stepMaxAbs && d > stepMaxAbs[r]!) stepMaxAbs[r] = d;
            if (map && d > map[r * cols + c]!) map[r * cols + c] = d;
            // The relative error skips expected zeros (counted in zeroExpected when the
            // difference is not 0) and subnormal expected values whose ratio overflows, as zeros.
            if (ae === 0) {
              if (d !== 0) zeroExpected++;
            } else if (ae < TINY || maxRelAt < 0 || d >= maxRel * ae * (1 - 1e-15)) {
              const rel = d / ae;
              if (rel === Infinity) zeroExpected++;
              else if (rel > maxRel || maxRelAt < 0) {
                maxRel = rel;
                maxRelAt = i;
              }
            }
            const need = d - rtol * ae;
            if (need > required) required = need;
          } else if (!isClose(ai, ei, o)) {
            // NaN or an infinity (or a difference past the float64 range): no finite error.
            mismatched++;
            nonFinite++;
            if (stepMaxAbs && (firstStep < 0 || r < firstStep)) firstStep = r;
          } else if (ai === ei) {
            // The same infinity: close, with a difference of 0.
            finiteCount++;
            if (maxAbsAt < 0) maxAbsAt = i;
            if (maxRelAt < 0) maxRelAt = i;
          }
        }
      }
    }
  }
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
    meanAbsError: meanAbs,
    requiredAtol: nonFinite > 0 ? null : required,
    firstMismatchStep: firstStep >= 0 ? firstStep : null,
    nonFiniteMismatched: nonFinite,
    zeroExpected,
  };
  if (stepMaxAbs) result.stepMaxAbs = Array.from(stepMaxAbs);
  if (map) result.errorMap = { rows: R, cols, rowLabel: target.mapRowLabel ?? `axis ${rowAxis}`, colLabel: target.mapColLabel ?? 'last axis', values: Array.from(map) };
  return result;
}
