/**
 * Order statistics of errors without sorting them: the definitions, the bucket plans of the exact
 * radix select over the IEEE-754 bits, and the per-octave histogram of |error| for the reports. The
 * select itself runs in the compare kernel (wasm/compare.wat select_rank, driven by
 * compare/kernel.ts: compareTensors' ranks and the public selectRanks).
 *
 * Definitions follow numpy (test/fixtures/tolerance/stats.json holds numpy's numbers):
 *   median      np.median: the middle value, or the mean of the two middle values for an even count
 *   quantile q  np.quantile(x, q) with the default 'linear' method: p = q·(n − 1), lo = floor(p),
 *               x[lo] + (p − lo)·(x[lo+1] − x[lo]); numpy evaluates that lerp as hi − (hi − lo)·(1 − f)
 *               for f >= 0.5, and so does this file, so results agree to the last bit.
 *
 * Why a radix select: compare runs on tensors of millions of elements, where a sort alone would take
 * a large share of a run. Non-negative finite doubles order
 * like their bit patterns read as unsigned integers, so a histogram of the top 16 bits (sign,
 * exponent and 4 mantissa bits: 1/16 of an octave per bucket) finds the bucket holding each wanted
 * rank in one pass; a second pass copies out just those buckets, and the next 16 bits narrow them
 * the same way. Never O(n log n). compareTensors has the compare kernel make the first pass during
 * its scan and the second (planRanks' ranges) while it scans or in one more pass over the data.
 */
import type { ErrorHistogram, ErrorStat } from '../result.js';

export type { ErrorHistogram, ErrorStat } from '../result.js';

/** Index of the high 32-bit word of a float64 in a Uint32Array view (1 on little-endian hosts). */
export const HI = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f ? 1 : 0;
const LO = 1 - HI;

/** numpy's linear interpolation between two neighbours, evaluated as numpy 1.24's _lerp does. */
function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

export interface MedianQuantile {
  median: number;
  quantile: number;
}

/** The four ranks np.median and np.quantile(x, q) read among m values (the two middle ones, the two around q·(m − 1)). */
export function medianQuantileRanks(m: number, q: number): [number, number, number, number] {
  const lo = Math.floor(q * (m - 1));
  return [Math.floor((m - 1) / 2), Math.floor(m / 2), lo, Math.min(lo + 1, m - 1)];
}

/** np.median and np.quantile(x, q) from the values at medianQuantileRanks(m, q). */
export function medianQuantileFrom(values: readonly number[], m: number, q: number): MedianQuantile {
  const [a, b, lo, hi] = values as [number, number, number, number];
  // The mean of the two middle values as np.mean computes it, (a + b) / 2, without overflowing.
  let median = a === b ? a : (a + b) / 2;
  if (!Number.isFinite(median)) median = a / 2 + b / 2;
  const p = q * (m - 1);
  return { median, quantile: lerp(lo, hi, p - Math.floor(p)) };
}

const BITS = new Float64Array(1);
const BITS_U = new Uint32Array(BITS.buffer);

/** The top-bits bucket of a non-negative double: the 15 bits past the sign (the scan's histograms'). */
export function bucketOf(x: number): number {
  BITS[0] = x;
  return (BITS_U[HI]! >>> 16) & 0x7fff;
}

/** The smallest double whose top `bits` bits past the sign are `digit` (the low word 0). */
function digitFloor(digit: number, bits: number): number {
  BITS_U[HI] = (digit << (31 - bits)) >>> 0;
  BITS_U[LO] = 0;
  return BITS[0]!;
}

/**
 * Ranks to find without keeping the values. From a top-bits histogram (`zeros`: how many values
 * are exact zeros, -1 when not known; `locate`: the walk over it, which compare/kernel.ts does in
 * wasm; `bits`: the bits past the sign a bucket takes, 11 or 15), the ranks fall in at most two
 * value ranges (the middle pair and the quantile pair), each [lo[j], hi[j]) covering the buckets
 * between its ranks and holding nothing else. The caller makes one more pass over its data, keeps every value inside range j
 * (sizes[j] of them; no value lies in two) and selects each group's ranks among them
 * (compare/kernel.ts). Range tests are two comparisons a value: cheaper than reading its bits again.
 */
export interface RankPlan {
  /** 1 or 2 ranges; lo/hi always have 2 entries ([Infinity, -Infinity) when unused). */
  count: number;
  lo: Float64Array;
  hi: Float64Array;
  /** Values in each range (the histogram's counts), and its first and last bucket. */
  sizes: number[];
  from: number[];
  to: number[];
  /** Ranks within each range, and the slot of `out` each answers. */
  groups: { ranks: number[]; slots: number[] }[];
  /** The values at the ranks, in the order asked; those known from the histogram alone are set already. */
  out: number[];
}

/** The bucket of each of some ascending ranks, and how many values lie below that bucket. */
export type Locate = (ranks: readonly number[]) => { digit: number; below: number }[];

export function planRanks(top: Int32Array, m: number, ranks: readonly number[], zeros: number, locate: Locate, bits: number): RankPlan {
  const order = ranks.map((r, i) => [r, i] as const).sort((a, b) => a[0] - b[0]);
  const at = locate(order.map((o) => o[0]));
  if (at.length < order.length) throw new RangeError(`rank ${order[at.length]![0]} is past the ${m} values`);
  // Ranges: runs of ranks whose buckets are adjacent in the histogram (no values between them).
  const ranges: { from: number; to: number; below: number; ranks: number[]; slots: number[] }[] = [];
  const out = new Array<number>(ranks.length).fill(NaN);
  order.forEach(([r, slot], i) => {
    const { digit, below: b } = at[i]!;
    // Bucket 0 holding only exact zeros (`zeros` of them): the value is 0, nothing to gather (a
    // bit-exact port would otherwise copy out every element).
    if (digit === 0 && top[0] === zeros) {
      out[slot] = 0;
      return;
    }
    const last = ranges[ranges.length - 1];
    let empty = last !== undefined;
    if (last) for (let d = last.to + 1; d < digit && empty; d++) empty = top[d] === 0;
    if (last && (digit <= last.to || empty)) {
      last.to = Math.max(last.to, digit);
    } else {
      ranges.push({ from: digit, to: digit, below: b, ranks: [], slots: [] });
    }
    const g = ranges[ranges.length - 1]!;
    g.ranks.push(r);
    g.slots.push(slot);
  });
  if (ranges.length > 2) {
    // Four ranks make at most two runs unless the pairs straddle gaps: merge into the outer two.
    const mid = ranges.splice(1, ranges.length - 2);
    for (const g of mid) ranges[0]!.ranks.push(...g.ranks), ranges[0]!.slots.push(...g.slots);
    ranges[0]!.to = mid[mid.length - 1]!.to;
  }
  const size = (g: (typeof ranges)[number]): number => {
    let c = 0;
    for (let d = g.from; d <= g.to; d++) c += top[d]!;
    return c;
  };
  const lo = new Float64Array([Infinity, Infinity]);
  const hi = new Float64Array([-Infinity, -Infinity]);
  ranges.forEach((g, j) => {
    lo[j] = digitFloor(g.from, bits);
    // The top digit of finite doubles (0x7fef with 15 bits): its end is +Infinity, above every finite value.
    hi[j] = digitFloor(g.to + 1, bits);
  });
  return {
    count: ranges.length,
    lo,
    hi,
    sizes: ranges.map(size),
    from: ranges.map((g) => g.from),
    to: ranges.map((g) => g.to),
    groups: ranges.map((g) => ({ ranks: g.ranks.map((r) => r - g.below), slots: g.slots })),
    out,
  };
}

/** The histogram from counts per exponent field (index 0: the zeros and the subnormals). */
export function octaveHistogramOf(perExponent: ArrayLike<number>, zeros: number): ErrorHistogram {
  const at = (k: number): number => perExponent[k]! - (k === 0 ? zeros : 0);
  let first = 0;
  while (first < 2047 && !(at(first) > 0)) first++;
  if (first === 2047) return { zeros, minExp: 0, counts: [] };
  let last = 2046;
  while (!(at(last) > 0)) last--;
  const counts: number[] = [];
  for (let k = first; k <= last; k++) counts.push(at(k));
  return { zeros, minExp: first - 1023, counts };
}

/**
 * How a check decides pass: 'elemwise' is numpy/torch isclose on every element; the others hold
 * one statistic of |a − e| to atol + rtol·(the same statistic of |e|) — see compare/isclose.ts.
 */
export const ERROR_STATS = ['elemwise', 'max', 'mean', 'median', 'quantile'] as const satisfies readonly ErrorStat[];
export const DEFAULT_ERROR_QUANTILE = 0.99;
