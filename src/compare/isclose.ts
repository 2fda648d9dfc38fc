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
  /** Set when the check covers part of the tensor: 'last layer' (a candidate's final states of the last layer only). */
  part?: string;
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

/** Slots of scan()'s running state. */
const MISMATCHED = 0, NON_FINITE = 1, ZERO_EXPECTED = 2, MAX_ABS = 3, MAX_ABS_AT = 4, MAX_REL = 5, MAX_REL_AT = 6, SUM_ABS = 7, FINITE = 8, REQUIRED = 9, FIRST_STEP = 10, STATE = 11;
/** Elements per scan() call. */
const CHUNK = 16384;

/**
 * isclose and the error metrics over elements [i0, i1), carried in `st` from chunk to chunk.
 * Element i's time step (for firstMismatchStep) is floor(i / inner) % steps (steps 0: no time axis).
 */
function scan(a: ArrayLike<number>, e: ArrayLike<number>, i0: number, i1: number, o: CompareOptions, inner: number, steps: number, st: Float64Array): void {
  const { atol, rtol } = o;
  let mismatched = st[MISMATCHED]!;
  let nonFinite = st[NON_FINITE]!;
  let zeroExpected = st[ZERO_EXPECTED]!;
  let maxAbs = st[MAX_ABS]!;
  let maxAbsAt = st[MAX_ABS_AT]!;
  let maxRel = st[MAX_REL]!;
  let maxRelAt = st[MAX_REL_AT]!;
  let sumAbs = st[SUM_ABS]!;
  let finiteCount = st[FINITE]!;
  let required = st[REQUIRED]!;
  let firstStep = st[FIRST_STEP]!;
  for (let i = i0; i < i1; i++) {
    const ai = a[i]!;
    const ei = e[i]!;
    let d = ai - ei;
    if (d < 0) d = -d;
    if (d <= MAX) {
      // Both finite and so is their difference: isclose is |a - e| <= atol + rtol·|e|.
      const ae = ei < 0 ? -ei : ei;
      if (!(d <= atol + rtol * ae)) {
        mismatched++;
        if (steps > 0) {
          const t = Math.floor(i / inner) % steps;
          if (firstStep < 0 || t < firstStep) firstStep = t;
        }
      }
      finiteCount++;
      sumAbs += d;
      if (d > maxAbs || maxAbsAt < 0) {
        maxAbs = d;
        maxAbsAt = i;
      }
      // The relative error skips expected zeros (counted in zeroExpected when the difference is
      // not 0) and subnormal expected values whose ratio overflows, as zeros.
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
      if (steps > 0) {
        const t = Math.floor(i / inner) % steps;
        if (firstStep < 0 || t < firstStep) firstStep = t;
      }
    } else if (ai === ei) {
      // The same infinity: close, with a difference of 0.
      finiteCount++;
      if (maxAbsAt < 0) maxAbsAt = i;
      if (maxRelAt < 0) maxRelAt = i;
    }
  }
  st[MISMATCHED] = mismatched;
  st[NON_FINITE] = nonFinite;
  st[ZERO_EXPECTED] = zeroExpected;
  st[MAX_ABS] = maxAbs;
  st[MAX_ABS_AT] = maxAbsAt;
  st[MAX_REL] = maxRel;
  st[MAX_REL_AT] = maxRelAt;
  st[SUM_ABS] = sumAbs;
  st[FINITE] = finiteCount;
  st[REQUIRED] = required;
  st[FIRST_STEP] = firstStep;
}

/**
 * max |a - e| (finite differences only) over every axis but `axis` (and `col`, when given: then the
 * result is (shape[axis], shape[col]) row-major). Nested loops over [P, R, Q, C]: indices are sums.
 */
function maxPerIndex(a: ArrayLike<number>, e: ArrayLike<number>, shape: readonly number[], axis: number, col: number | undefined): Float64Array {
  const prod = (from: number, to: number): number => shape.slice(from, to).reduce((x, y) => x * y, 1);
  const R = shape[axis]!;
  const C = col === undefined ? 1 : shape[col]!;
  const P = prod(0, axis);
  const Q = col === undefined ? prod(axis + 1, shape.length) : prod(axis + 1, col);
  const out = new Float64Array(R * C);
  for (let p = 0; p < P; p++) {
    for (let r = 0; r < R; r++) {
      for (let q = 0; q < Q; q++) {
        const i0 = ((p * R + r) * Q + q) * C;
        const o0 = r * C;
        for (let c = 0; c < C; c++) {
          let d = a[i0 + c]! - e[i0 + c]!;
          if (d < 0) d = -d;
          if (d <= MAX && d > out[o0 + c]!) out[o0 + c] = d;
        }
      }
    }
  }
  return out;
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
  // Elements per step along the time axis, and steps: step of flat index i = floor(i / inner) % steps.
  const inner = timeAxis === undefined ? 1 : shape.slice(timeAxis + 1).reduce((x, y) => x * y, 1);
  const steps = timeAxis === undefined ? 0 : shape[timeAxis]!;

  // The comparison runs over chunks of elements through one small function rather than in one loop
  // here: a fresh process (a CLI run) gets optimized code for a function called again and again
  // much sooner than for one long loop waiting for on-stack replacement (measured: about 3x less
  // time cold on 800k elements). A division per element for the time step cost more than the
  // comparison itself, so the step is worked out only for mismatches.
  const st = new Float64Array(STATE);
  st[MAX_ABS_AT] = -1;
  st[MAX_REL_AT] = -1;
  st[FIRST_STEP] = -1;
  for (let s0 = 0; s0 < n; s0 += CHUNK) scan(a, e, s0, Math.min(n, s0 + CHUNK), o, inner, steps, st);
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
  const stepMaxAbs = timeAxis !== undefined && target.stepErrors !== false ? maxPerIndex(a, e, shape, timeAxis, undefined) : undefined;
  const map = rowAxis !== undefined && target.errorMap !== false ? maxPerIndex(a, e, shape, rowAxis, shape.length - 1) : undefined;
  const rows = rowAxis === undefined ? 0 : shape[rowAxis]!;
  const cols = shape.length > 0 ? shape[shape.length - 1]! : 1;
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
  if (map) result.errorMap = { rows, cols, rowLabel: target.mapRowLabel ?? `axis ${rowAxis}`, colLabel: target.mapColLabel ?? 'last axis', values: Array.from(map) };
  return result;
}
