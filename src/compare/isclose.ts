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
import { DEFAULT_ERROR_QUANTILE, HI as HIGH_WORD, SAMPLE_SIZE, keepFromSample, keptRanks, medianQuantileFrom, medianQuantileRanks, octaveHistogram, octaveHistogramOf, planRanks, resolvePlan, selectRanks, type ErrorHistogram, type ErrorStat, type Keep, type RankPlan } from './stats.js';

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

/** Below this |e| a ratio d / |e| may overflow: computed and checked exactly there. */
const TINY = 1e-290;

/** Slots of scan()'s running state. */
const MISMATCHED = 0, NON_FINITE = 1, ZERO_EXPECTED = 2, MAX_ABS = 3, MAX_ABS_AT = 4, MAX_REL = 5, MAX_REL_AT = 6, SUM_ABS = 7, FINITE = 8, REQUIRED = 9, FIRST_STEP = 10,
  ZEROS = 11, SUM_D2 = 12, SUM_ED = 13, SUM_E2 = 14, SUM_ABS_E = 15, MAX_ABS_E = 16, REL_COUNT = 17, SAME_INF = 18, REL_ZEROS = 19,
  /** Values offered to the kept buckets' buffers (compare/stats.ts Keep): |a - e| 0 and 1, ratios 0 and 1. */
  FILL_A0 = 20, FILL_A1 = 21, FILL_R0 = 22, FILL_R1 = 23, STATE = 24;
/** Elements per scan() call. */
const CHUNK = 16384;
/** Tensors up to this many elements get their order statistics from a copy, not from a sample. */
const COPY_OUT = 65536;

/** A double's bits, for the top-bits histograms (compare/stats.ts). */
const BITS = new Float64Array(1);
const BITS_U = new Uint32Array(BITS.buffer);
/** A local copy: an imported binding read per element can cost a call (tsx's module wrapper). */
const HI = HIGH_WORD;

/**
 * isclose, the error metrics and sums over elements [i0, i1), carried in `st` from chunk to chunk.
 * With `stats`, also the top-bits histograms of |a - e| (hA) and of the ratios |a - e| / |e| (hR),
 * keeping the values of the buckets kA and kR mark (compare/stats.ts Keep). Element i's time step
 * (for firstMismatchStep) is floor(i / inner) % steps (steps 0: no time axis).
 *
 * Measured on 6.5M elements: membership in the kept buckets is a table lookup on the bucket, as
 * comparing each value with a quantile's bounds was a branch mispredicted for half the elements;
 * one loop reads each element once (a second loop for the statistics, reading a and e again, was
 * slower in the CLI, where their element types differ from check to check); the two histogram
 * halves are written out rather than shared through a helper (slower too). Without `stats` the
 * ratio is only divided out where it may be a new max.
 */
function scan(a: ArrayLike<number>, e: ArrayLike<number>, i0: number, i1: number, atol: number, rtol: number, equalNan: boolean, inner: number, steps: number, st: Float64Array, expStats: boolean, stats: boolean, hA: Int32Array, hR: Int32Array, kA: Keep, kR: Keep): void {
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
  let zeros = st[ZEROS]!;
  let sumD2 = st[SUM_D2]!;
  let sumED = st[SUM_ED]!;
  let sumE2 = st[SUM_E2]!;
  let sumAbsE = st[SUM_ABS_E]!;
  let maxAbsE = st[MAX_ABS_E]!;
  let relCount = st[REL_COUNT]!;
  let sameInf = st[SAME_INF]!;
  const tA = kA.table, tR = kR.table;
  const [bA0, bA1] = kA.bufs;
  const [bR0, bR1] = kR.bufs;
  const cA0 = bA0.length, cA1 = bA1.length, cR0 = bR0.length, cR1 = bR1.length;
  let fA0 = st[FILL_A0]! | 0, fA1 = st[FILL_A1]! | 0, fR0 = st[FILL_R0]! | 0, fR1 = st[FILL_R1]! | 0;
  let relZeros = st[REL_ZEROS]!;
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
      if (d === 0) zeros++;
      // Σd², Σe² and Σe·(a - e) give both norms and the dot product: Σa² = Σe² + 2Σe(a - e) + Σd²,
      // Σa·e = Σe² + Σe(a - e) (one accumulator fewer, and the small term kept apart).
      sumD2 += d * d;
      sumE2 += ei * ei;
      sumED += ei * (ai - ei);
      if (expStats) {
        sumAbsE += ae;
        if (ae > maxAbsE) maxAbsE = ae;
      }
      const need = d - rtol * ae;
      if (need > required) required = need;
      if (stats) {
        BITS[0] = d;
        const g = (BITS_U[HI]! >>> 16) & 0x7fff;
        hA[g]++;
        const k = tA[g]!;
        if (k !== 0) {
          if (k === 1) {
            if (fA0 < cA0) bA0[fA0] = d;
            fA0++;
          } else {
            if (fA1 < cA1) bA1[fA1] = d;
            fA1++;
          }
        }
      }
      // The relative error leaves out expected zeros (counted in zeroExpected when the difference
      // is not 0) and ratios that overflow (a subnormal or tiny expected value), as zeros.
      if (ae === 0) {
        if (d !== 0) zeroExpected++;
      } else if (stats || ae < TINY || maxRelAt < 0 || d >= maxRel * ae * (1 - 1e-15)) {
        const r = d / ae;
        if (r === Infinity) {
          zeroExpected++;
        } else {
          relCount++;
          if (r > maxRel || maxRelAt < 0) {
            maxRel = r;
            maxRelAt = i;
          }
          if (stats) {
            if (r === 0) relZeros++;
            BITS[0] = r;
            const g = (BITS_U[HI]! >>> 16) & 0x7fff;
            hR[g]++;
            const k = tR[g]!;
            if (k !== 0) {
              if (k === 1) {
                if (fR0 < cR0) bR0[fR0] = r;
                fR0++;
              } else {
                if (fR1 < cR1) bR1[fR1] = r;
                fR1++;
              }
            }
          }
        }
      } else {
        relCount++;
      }
    } else if (!isClose(ai, ei, { atol, rtol, equalNan })) {
      // NaN or an infinity (or a difference past the float64 range): no finite error.
      mismatched++;
      nonFinite++;
      if (steps > 0) {
        const t = Math.floor(i / inner) % steps;
        if (firstStep < 0 || t < firstStep) firstStep = t;
      }
    } else if (ai === ei) {
      // The same infinity: close, with a difference of 0 (left out of the sums and statistics,
      // which an infinity would poison, but counted as finite like before).
      finiteCount++;
      sameInf++;
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
  st[ZEROS] = zeros;
  st[SUM_D2] = sumD2;
  st[SUM_ED] = sumED;
  st[SUM_E2] = sumE2;
  st[SUM_ABS_E] = sumAbsE;
  st[MAX_ABS_E] = maxAbsE;
  st[REL_COUNT] = relCount;
  st[SAME_INF] = sameInf;
  st[FILL_A0] = fA0;
  st[FILL_A1] = fA1;
  st[FILL_R0] = fR0;
  st[FILL_R1] = fR1;
  st[REL_ZEROS] = relZeros;
}

/** A small tensor's |a - e|, ratios (e != 0, finite) and, when asked, |e|: the elements scan() counted. */
function copyOut(a: ArrayLike<number>, e: ArrayLike<number>, n: number, m: number, relCount: number, withExp: boolean): { d: Float64Array; r: Float64Array; e: Float64Array | null } {
  const d = new Float64Array(m);
  const r = new Float64Array(relCount);
  const x = withExp ? new Float64Array(m) : null;
  let k = 0;
  let j = 0;
  for (let i = 0; i < n; i++) {
    const ei = e[i]!;
    const di = Math.abs(a[i]! - ei);
    if (!(di <= MAX)) continue;
    const ae = Math.abs(ei);
    if (x) x[k] = ae;
    d[k++] = di;
    if (ae !== 0 && di / ae !== Infinity) r[j++] = di / ae;
  }
  return { d, r, e: x };
}

/**
 * The values of a strided sample of the elements (a prime stride, so it does not line up with an
 * axis), for the order statistics' brackets: |a - e|, |a - e| / |e| where e != 0, and |e|.
 */
function sampleOf(a: ArrayLike<number>, e: ArrayLike<number>, n: number): { d: Float64Array; r: Float64Array; e: Float64Array } {
  let stride = Math.max(1, Math.floor(n / SAMPLE_SIZE));
  while (stride > 2 && !isPrime(stride)) stride++;
  const size = Math.ceil(n / stride);
  const d = new Float64Array(size);
  const r = new Float64Array(size);
  const x = new Float64Array(size);
  let k = 0;
  let j = 0;
  for (let i = 0; i < n; i += stride) {
    const ei = e[i]!;
    const di = Math.abs(a[i]! - ei);
    if (!(di <= MAX)) continue;
    const ae = Math.abs(ei);
    d[k] = di;
    x[k++] = ae;
    if (ae !== 0 && di / ae !== Infinity) r[j++] = di / ae;
  }
  return { d: d.subarray(0, k), r: r.subarray(0, j), e: x.subarray(0, k) };
}

function isPrime(k: number): boolean {
  for (let f = 2; f * f <= k; f++) if (k % f === 0) return false;
  return k >= 2;
}

/**
 * One pass for the exact radix select when a sample's brackets missed: the top-bits histograms of
 * |a - e|, the ratios and |e|, each when asked for.
 */
function histogramPass(a: ArrayLike<number>, e: ArrayLike<number>, n: number, hAbs: Int32Array | null, hRel: Int32Array | null, hExp: Int32Array | null): void {
  for (let i = 0; i < n; i++) {
    const ei = e[i]!;
    let d = a[i]! - ei;
    if (d < 0) d = -d;
    if (!(d <= MAX)) continue;
    const ae = ei < 0 ? -ei : ei;
    if (hAbs !== null) {
      BITS[0] = d;
      hAbs[(BITS_U[HI]! >>> 16) & 0x7fff]++;
    }
    if (hExp !== null) {
      BITS[0] = ae;
      hExp[(BITS_U[HI]! >>> 16) & 0x7fff]++;
    }
    if (hRel !== null && ae !== 0) {
      const r = d / ae;
      if (r !== Infinity) {
        BITS[0] = r;
        hRel[(BITS_U[HI]! >>> 16) & 0x7fff]++;
      }
    }
  }
}

/** A ratio's range test by multiplication is widened this much, so rounding cannot misplace it (then divided out). */
const WIDE_LO = 1 - 2 ** -48;
const WIDE_HI = 1 + 2 ** -48;

/** A plan's two ranges and buffers as locals; an absent plan's ranges are empty ([Infinity, -Infinity)). */
const NO_PLAN = { lo: new Float64Array([Infinity, Infinity]), hi: new Float64Array([-Infinity, -Infinity]), bufs: [new Float64Array(0), new Float64Array(0)], fill: new Int32Array(2) };

/**
 * The second pass of the radix select: the values of elements [i0, i1) that fall in the planned
 * ranges (compare/stats.ts), over the same elements scan() counted (finite differences; ratios
 * where e != 0 and finite).
 */
function gather(a: ArrayLike<number>, e: ArrayLike<number>, i0: number, i1: number, pAbs: RankPlan | null, pRel: RankPlan | null, pExp: RankPlan | null): void {
  const A = pAbs ?? NO_PLAN, R = pRel ?? NO_PLAN, E = pExp ?? NO_PLAN;
  const aLo0 = A.lo[0]!, aHi0 = A.hi[0]!, aLo1 = A.lo[1]!, aHi1 = A.hi[1]!;
  const rLo0 = R.lo[0]!, rHi0 = R.hi[0]!, rLo1 = R.lo[1]!, rHi1 = R.hi[1]!;
  const eLo0 = E.lo[0]!, eHi0 = E.hi[0]!, eLo1 = E.lo[1]!, eHi1 = E.hi[1]!;
  const aB0 = A.bufs[0]!, aB1 = A.bufs[1] ?? aB0, rB0 = R.bufs[0]!, rB1 = R.bufs[1] ?? rB0, eB0 = E.bufs[0]!, eB1 = E.bufs[1] ?? eB0;
  let aF0 = A.fill[0]!, aF1 = A.fill[1]!, rF0 = R.fill[0]!, rF1 = R.fill[1]!, eF0 = E.fill[0]!, eF1 = E.fill[1]!;
  const rLo0w = rLo0 * WIDE_LO, rHi0w = rHi0 * WIDE_HI, rLo1w = rLo1 * WIDE_LO, rHi1w = rHi1 * WIDE_HI;
  const rel = pRel !== null;
  const exp = pExp !== null;
  for (let i = i0; i < i1; i++) {
    const ei = e[i]!;
    let d = a[i]! - ei;
    if (d < 0) d = -d;
    if (!(d <= MAX)) continue;
    if (d >= aLo0 && d < aHi0) aB0[aF0++] = d;
    else if (d >= aLo1 && d < aHi1) aB1[aF1++] = d;
    const ae = ei < 0 ? -ei : ei;
    if (exp) {
      if (ae >= eLo0 && ae < eHi0) eB0[eF0++] = ae;
      else if (ae >= eLo1 && ae < eHi1) eB1[eF1++] = ae;
    }
    // The ratio only for candidates: d against the ranges scaled by |e| (widened by a few ulps so
    // the rounded ratio decides at the edges), a multiplication instead of a division per element.
    if (rel && ae !== 0 && ((d >= rLo0w * ae && d < rHi0w * ae) || (d >= rLo1w * ae && d < rHi1w * ae))) {
      const r = d / ae;
      if (r >= rLo0 && r < rHi0) rB0[rF0++] = r;
      else if (r >= rLo1 && r < rHi1) rB1[rF1++] = r;
    }
  }
  A.fill[0] = aF0; A.fill[1] = aF1; R.fill[0] = rF0; R.fill[1] = rF1; E.fill[0] = eF0; E.fill[1] = eF1;
}

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
  // Medians and quantiles (compare/stats.ts): the scan histograms every |a - e| and ratio by its
  // top bits and keeps the values of the buckets a sample points at; the exact radix select's one
  // more pass only where the sample missed.
  const statistics = target.statistics !== false;
  const orderStat = stat === 'median' || stat === 'quantile';
  // Up to COPY_OUT elements, the values are simply copied out after the scan and selected from: the
  // histograms' tables and the sample cost more than the data (diagnose compares small tensors many
  // times; cold, in a CLI process, 64k elements took 40 ms this way against 70 with the sample).
  const small = n <= COPY_OUT;
  const stats = (statistics || orderStat) && !small;
  const ps = [0.5, q];
  const sample = stats ? sampleOf(a, e, n) : null;
  const kAbs = keepFromSample(sample ? sample.d : new Float64Array(0), ps, n);
  const kRel = keepFromSample(sample ? sample.r : new Float64Array(0), ps, n);
  const hAbs = new Int32Array(stats ? 32768 : 0);
  const hRel = new Int32Array(stats ? 32768 : 0);

  // The comparison runs over chunks of elements through one small function rather than in one loop
  // here: a fresh process (a CLI run) gets optimized code for a function called again and again
  // much sooner than for one long loop waiting for on-stack replacement (measured: about 3x less
  // time cold on 800k elements). A division per element for the time step cost more than the
  // comparison itself, so the step is worked out only for mismatches.
  const st = new Float64Array(STATE);
  st[MAX_ABS_AT] = -1;
  st[MAX_REL_AT] = -1;
  st[FIRST_STEP] = -1;
  for (let s0 = 0; s0 < n; s0 += CHUNK) {
    const s1 = Math.min(n, s0 + CHUNK);
    scan(a, e, s0, s1, o.atol, o.rtol, o.equalNan, inner, steps, st, stat === 'max' || stat === 'mean', stats, hAbs, hRel, kAbs, kRel);
  }
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
  const few = small && (statistics || orderStat) ? copyOut(a, e, n, m, relCount, orderStat) : null;
  let vAbs = stats && m > 0 ? keptRanks(hAbs, st[ZEROS]!, kAbs, [st[FILL_A0]!, st[FILL_A1]!], ranksAbs) : null;
  let vRel = stats && relCount > 0 ? keptRanks(hRel, st[REL_ZEROS]!, kRel, [st[FILL_R0]!, st[FILL_R1]!], ranksRel) : null;
  let vExp: number[] | null = null;
  if (few && m > 0) {
    vAbs = selectRanks(few.d, m, ranksAbs);
    if (relCount > 0) vRel = selectRanks(few.r, relCount, ranksRel);
    if (few.e) vExp = selectRanks(few.e, m, ranksAbs);
  }
  // |e|'s order statistics only for a median / quantile criterion: a histogram pass over e.
  const hExp = orderStat && m > 0 && !small ? new Int32Array(32768) : null;
  const pAbs = stats && m > 0 && vAbs === null ? planRanks(hAbs, m, ranksAbs) : null;
  const pRel = stats && relCount > 0 && vRel === null ? planRanks(hRel, relCount, ranksRel) : null;
  if (hExp) histogramPass(a, e, n, null, null, hExp);
  const pExp = hExp ? planRanks(hExp, m, ranksAbs) : null;
  if (pAbs || pRel || pExp) {
    for (let s0 = 0; s0 < n; s0 += CHUNK) gather(a, e, s0, Math.min(n, s0 + CHUNK), pAbs, pRel, pExp);
    if (pAbs) vAbs = resolvePlan(pAbs);
    if (pRel) vRel = resolvePlan(pRel);
    if (pExp) vExp = resolvePlan(pExp);
  }
  const absMQ = vAbs ? medianQuantileFrom(vAbs, m, q) : null;
  const relMQ = vRel ? medianQuantileFrom(vRel, relCount, q) : null;
  const expMQ = vExp ? medianQuantileFrom(vExp, m, q) : null;

  let d2 = st[SUM_D2]!, e2 = st[SUM_E2]!, ed = st[SUM_ED]!;
  if (![d2, e2, ed].every(Number.isFinite) || (d2 === 0 && maxAbs > 0) || e2 === 0) ({ d2, e2, ed } = scaledSums(a, e, n));
  const a2 = e2 + 2 * ed + d2;
  const ae = e2 + ed;
  const relL2 = nonFinite > 0 || e2 === 0 ? null : Math.sqrt(d2) / Math.sqrt(e2);
  const cosine = nonFinite > 0 || !(a2 > 0) || e2 === 0 ? null : ae / (Math.sqrt(a2) * Math.sqrt(e2));

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
  if (statistics && target.histogram !== false) result.errorHistogram = few ? octaveHistogramOf(few.d, m, st[ZEROS]!) : octaveHistogram(hAbs, st[ZEROS]!);
  if (stepMaxAbs) result.stepMaxAbs = Array.from(stepMaxAbs);
  if (map) result.errorMap = { rows, cols, rowLabel: target.mapRowLabel ?? `axis ${rowAxis}`, colLabel: target.mapColLabel ?? 'last axis', values: Array.from(map) };
  return result;
}
