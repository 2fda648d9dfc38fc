/**
 * Order statistics of errors without sorting them: median and quantiles found during compare's
 * scan from the buckets a sample points at (Keep below), else by an exact radix select over the
 * IEEE-754 bits; and the per-octave histogram of |error| for the reports.
 *
 * Definitions follow numpy (test/fixtures/tolerance/stats.json holds numpy's numbers):
 *   median      np.median: the middle value, or the mean of the two middle values for an even count
 *   quantile q  np.quantile(x, q) with the default 'linear' method: p = q·(n − 1), lo = floor(p),
 *               x[lo] + (p − lo)·(x[lo+1] − x[lo]); numpy evaluates that lerp as hi − (hi − lo)·(1 − f)
 *               for f >= 0.5, and so does this file, so results agree to the last bit.
 *
 * Why a radix select: compare runs on tensors of millions of elements and its time is already a
 * measured share of a run (a sort of 6.5M doubles took about 0.85 s here). Non-negative finite
 * doubles order like their bit patterns read as unsigned integers, so a histogram of the top 16
 * bits (sign, exponent and 4 mantissa bits: 1/16 of an octave per bucket) finds the bucket holding
 * each wanted rank in one pass; a second pass copies out just those buckets, and the next 16 bits
 * narrow them the same way until a bucket is small enough to sort. Never O(n log n) — also not for
 * an all-zero buffer (every level keeps the whole set without copying it, and after the last level
 * the values are bit-identical). compareTensors makes the first pass part of its scan and, when a
 * sample guessed the buckets right (Keep), needs no second one.
 */

/** Index of the high 32-bit word of a float64 in a Uint32Array view (1 on little-endian hosts). */
export const HI = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f ? 1 : 0;
const LO = 1 - HI;
/** Buckets at or below this size are sorted outright. */
const SMALL = 2048;

/** Digit `level` (0..3, most significant first) of a non-negative double's bits; level 0 ignores the sign (so -0 is 0). */
function digitsOf(v: Float64Array, m: number, level: number, hist: Int32Array): void {
  const u = new Uint32Array(v.buffer, v.byteOffset, 2 * m);
  const w = level < 2 ? HI : LO;
  if (level === 0) for (let i = 0; i < m; i++) hist[(u[2 * i + w]! >>> 16) & 0x7fff]++;
  else if (level === 2) for (let i = 0; i < m; i++) hist[u[2 * i + w]! >>> 16]++;
  else for (let i = 0; i < m; i++) hist[u[2 * i + w]! & 0xffff]++;
}

function digitAt(u: Uint32Array, i: number, level: number): number {
  if (level === 0) return (u[2 * i + HI]! >>> 16) & 0x7fff;
  if (level === 1) return u[2 * i + HI]! & 0xffff;
  if (level === 2) return u[2 * i + LO]! >>> 16;
  return u[2 * i + LO]! & 0xffff;
}

/**
 * The histogram of the top 16 bits of buf[0..m) (32768 buckets: non-negative doubles only), the
 * first pass of selectRanks; pass it back in to save that pass, and to octaveHistogram.
 */
export function topBitsHistogram(buf: Float64Array, m: number): Int32Array {
  const hist = new Int32Array(65536);
  digitsOf(buf, m, 0, hist);
  return hist;
}

/**
 * The values at `ranks` (0-based positions in ascending order; any order, duplicates allowed, each
 * < m) of the non-negative finite values buf[0..m). buf is not modified.
 */
export function selectRanks(buf: Float64Array, m: number, ranks: readonly number[], top?: Int32Array): number[] {
  const out = new Array<number>(ranks.length).fill(NaN);
  const order = ranks.map((r, i) => [r, i] as const).sort((a, b) => a[0] - b[0]);
  select(buf, m, order.map((x) => x[0]), order.map((x) => x[1]), 0, out, top);
  return out;
}

function select(v: Float64Array, m: number, ranks: number[], slots: number[], level: number, out: number[], hist?: Int32Array): void {
  if (m <= SMALL || level === 4) {
    // At level 4 every 64 bits agree: any element is the answer.
    const s = level === 4 ? v.subarray(0, m) : v.slice(0, m).sort();
    ranks.forEach((r, i) => (out[slots[i]!] = s[level === 4 ? 0 : r]!));
    return;
  }
  if (!hist) {
    hist = new Int32Array(65536);
    digitsOf(v, m, level, hist);
  }
  // Which bucket (digit) holds each rank, and its rank within the bucket.
  const groups = new Map<number, { ranks: number[]; slots: number[] }>();
  let below = 0;
  let ri = 0;
  for (let d = 0; d < 65536 && ri < ranks.length; d++) {
    const c = hist[d]!;
    if (c === 0) continue;
    while (ri < ranks.length && ranks[ri]! < below + c) {
      let g = groups.get(d);
      if (!g) groups.set(d, (g = { ranks: [], slots: [] }));
      g.ranks.push(ranks[ri]! - below);
      g.slots.push(slots[ri]!);
      ri++;
    }
    below += c;
  }
  // One bucket holding everything: narrow by the next digit without copying.
  if (groups.size === 1) {
    const [d, g] = [...groups][0]!;
    if (hist[d] === m) {
      select(v, m, g.ranks, g.slots, level + 1, out);
      return;
    }
  }
  const u = new Uint32Array(v.buffer, v.byteOffset, 2 * m);
  const slotOf = new Int32Array(65536).fill(-1);
  const bufs: Float64Array[] = [];
  const fill: number[] = [];
  for (const d of groups.keys()) {
    slotOf[d] = bufs.length;
    bufs.push(new Float64Array(hist[d]!));
    fill.push(0);
  }
  for (let i = 0; i < m; i++) {
    const s = slotOf[digitAt(u, i, level)]!;
    if (s >= 0) bufs[s]![fill[s]!++] = v[i]!;
  }
  let k = 0;
  for (const g of groups.values()) select(bufs[k++]!, bufs[k - 1]!.length, g.ranks, g.slots, level + 1, out);
}

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

/**
 * np.median and np.quantile(x, q) of buf[0..m) (non-negative, finite), in one selection; null for
 * m = 0. `top`: topBitsHistogram(buf, m) when already made.
 */
export function medianAndQuantile(buf: Float64Array, m: number, q: number, top?: Int32Array): MedianQuantile | null {
  if (m === 0) return null;
  return medianQuantileFrom(selectRanks(buf, m, medianQuantileRanks(m, q), top), m, q);
}

const BITS = new Float64Array(1);
const BITS_U = new Uint32Array(BITS.buffer);

/** The smallest double whose top-bits digit is `digit` (the high word digit << 16, low word 0). */
function digitFloor(digit: number): number {
  BITS_U[HI] = (digit << 16) >>> 0;
  BITS_U[LO] = 0;
  return BITS[0]!;
}

/**
 * Ranks to find without keeping the values. From a topBitsHistogram, the ranks fall in at most two
 * value ranges (the middle pair and the quantile pair), each [lo[j], hi[j]) covering the buckets
 * between its ranks and holding nothing else. The caller makes one more pass over its data, puts
 * every value inside range j into bufs[j] (fill[j] so far; no value lies in two), then calls
 * resolvePlan. Range tests are two comparisons a value: cheaper than reading its bits again.
 */
export interface RankPlan {
  /** 1 or 2 ranges; lo/hi always have 2 entries ([Infinity, -Infinity) when unused). */
  count: number;
  lo: Float64Array;
  hi: Float64Array;
  bufs: Float64Array[];
  fill: Int32Array;
  groups: { ranks: number[]; slots: number[] }[];
  out: number[];
}

export function planRanks(top: Int32Array, m: number, ranks: readonly number[]): RankPlan {
  const order = ranks.map((r, i) => [r, i] as const).sort((a, b) => a[0] - b[0]);
  // The bucket of each rank, and how many values lie below that bucket.
  const at: { digit: number; below: number }[] = [];
  let below = 0;
  let ri = 0;
  for (let d = 0; d < 32768 && ri < order.length; d++) {
    const c = top[d]!;
    if (c === 0) continue;
    while (ri < order.length && order[ri]![0] < below + c) at[ri++] = { digit: d, below };
    below += c;
  }
  if (ri < order.length) throw new RangeError(`rank ${order[ri]![0]} is past the ${m} values`);
  // Ranges: runs of ranks whose buckets are adjacent in the histogram (no values between them).
  const ranges: { from: number; to: number; below: number; ranks: number[]; slots: number[] }[] = [];
  order.forEach(([r, slot], i) => {
    const { digit, below: b } = at[i]!;
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
    lo[j] = digitFloor(g.from);
    // The top digit of finite doubles is 0x7fef: its end is +Infinity, above every finite value.
    hi[j] = digitFloor(g.to + 1);
  });
  return {
    count: ranges.length,
    lo,
    hi,
    bufs: ranges.map((g) => new Float64Array(size(g))),
    fill: new Int32Array(2),
    groups: ranges.map((g) => ({ ranks: g.ranks.map((r) => r - g.below), slots: g.slots })),
    out: new Array<number>(ranks.length).fill(NaN),
  };
}

/** The ranked values, once every range of the plan has been filled. */
export function resolvePlan(p: RankPlan): number[] {
  p.groups.forEach((g, j) => select(p.bufs[j]!, p.fill[j]!, g.ranks, g.slots, 0, p.out));
  return p.out;
}

/**
 * Order statistics found in the one scan, when a sample says where they lie (the usual case: it
 * saves the radix select's second pass over the data). Before the scan, compareTensors takes a
 * strided sample (about 65k elements) and marks, for each wanted quantile, the top-bits buckets
 * between the sample's values five standard errors either side of it. The scan histograms every
 * value by its top bits (which it needs anyway) and keeps the values of marked buckets. Afterwards
 * the histogram says exactly which bucket holds each wanted rank: if it is a marked one, the rank
 * is selected among that bucket range's kept values; if not (a sample that misjudged the data, or a
 * buffer that filled up), one more pass gathers the right buckets (planRanks / resolvePlan).
 * Membership is a table lookup on the bucket, not a comparison of the value: a comparison against
 * a bound taken by half the elements was a mispredicted branch each, which cost more (measured).
 * Bucket 0 (exact zeros and subnormals) is never kept: a rank there is 0 when every value in it is
 * an exact zero (a bit-exact port), else it takes the exact path.
 */
export interface Keep {
  /** bucket -> 0 (not kept) or 1 / 2 (kept in bufs[0] / bufs[1]). */
  table: Uint8Array;
  bufs: [Float64Array, Float64Array];
  /** The bucket range [from, to] of each buffer ([1, 0] when unused). */
  from: [number, number];
  to: [number, number];
}

/** Elements in a statistics sample: a standard error of 0.2% of the count at the median. */
export const SAMPLE_SIZE = 65536;

/** The top-bits bucket of a non-negative double. */
export function bucketOf(x: number): number {
  BITS[0] = x;
  return (BITS_U[HI]! >>> 16) & 0x7fff;
}

/**
 * Buckets to keep for the fractions `ps` (0.5 for the median, q for a quantile; at most two),
 * judged from a sample of the values, for about `n` values in all.
 */
export function keepFromSample(sample: Float64Array, ps: readonly number[], n: number): Keep {
  const table = new Uint8Array(32768);
  const keep: Keep = { table, bufs: [new Float64Array(0), new Float64Array(0)], from: [1, 1], to: [0, 0] };
  const s = sample.length;
  if (s === 0) return keep;
  const ranges: [number, number][] = [];
  // One native sort of the sample (cold, in a fresh CLI process, cheaper than radix-selecting its
  // four bracketing ranks: measured 3 ms against 40 on 65k values).
  const sorted = sample.slice().sort();
  for (const p of ps.slice(0, 2)) {
    const c = p * (s - 1);
    const w = Math.ceil(5 * Math.sqrt(s * p * (1 - p)) + 16);
    const lo = sorted[Math.max(0, Math.floor(c) - w)]!;
    const hi = sorted[Math.min(s - 1, Math.ceil(c) + w)]!;
    ranges.push([Math.max(1, bucketOf(lo)), bucketOf(hi)]);
  }
  // Overlapping ranges become one.
  if (ranges.length === 2 && ranges[1]![0] <= ranges[0]![1] + 1 && ranges[0]![0] <= ranges[1]![1] + 1) {
    ranges.splice(0, 2, [Math.min(ranges[0]![0], ranges[1]![0]), Math.max(ranges[0]![1], ranges[1]![1])]);
  }
  ranges.forEach(([from, to], j) => {
    if (from > to) return;
    let inSample = 0;
    for (let i = 0; i < s; i++) {
      const b = bucketOf(sample[i]!);
      if (b >= from && b <= to) inSample++;
    }
    for (let b = from; b <= to; b++) table[b] = j + 1;
    keep.from[j] = from;
    keep.to[j] = to;
    keep.bufs[j] = new Float64Array(Math.min(n, Math.ceil((1.5 * inSample * n) / s) + 4096));
  });
  return keep;
}

/**
 * The values at `ranks` among m values, from their exact top-bits histogram `hist` (bucket 0
 * included), the count of exact zeros, and the values kept in `keep` (fills: how many each buffer
 * was offered; more than its length means it overflowed). null when a rank lies outside the kept
 * buckets: then the caller runs the exact radix select.
 */
export function keptRanks(hist: Int32Array, zeros: number, keep: Keep, fills: readonly [number, number], ranks: readonly number[]): number[] | null {
  const out = new Array<number>(ranks.length);
  const want: { j: number; ranks: number[]; slots: number[] }[] = [];
  for (let i = 0; i < ranks.length; i++) {
    const r = ranks[i]!;
    // The bucket holding rank r, and the values below that bucket.
    let below = 0;
    let b = 0;
    while (below + hist[b]! <= r) below += hist[b++]!;
    if (b === 0) {
      if (zeros !== hist[0]) return null;
      out[i] = 0;
      continue;
    }
    const j = keep.table[b]! - 1;
    if (j < 0 || fills[j]! > keep.bufs[j]!.length) return null;
    let start = 0;
    for (let k = 0; k < keep.from[j]!; k++) start += hist[k]!;
    let w = want.find((x) => x.j === j);
    if (!w) want.push((w = { j, ranks: [], slots: [] }));
    w.ranks.push(r - start);
    w.slots.push(i);
  }
  for (const w of want) {
    const got = selectRanks(keep.bufs[w.j]!, fills[w.j]!, w.ranks);
    w.slots.forEach((slot, k) => (out[slot] = got[k]!));
  }
  return out;
}

/**
 * |error| per octave: counts[i] elements with |error| in [2^(minExp + i), 2^(minExp + i + 1)), from
 * the smallest occupied octave to the largest (subnormal values count in the octave of 2^-1023);
 * exact zeros apart. Made from a top-bits histogram (its top 11 bits past the sign are the
 * exponent).
 */
export interface ErrorHistogram {
  /** Elements whose difference is exactly 0. */
  zeros: number;
  minExp: number;
  counts: number[];
}

/** octaveHistogram of the values v[0..m) themselves (for a few values: no 32768-bucket table). */
export function octaveHistogramOf(v: Float64Array, m: number, zeros: number): ErrorHistogram {
  const per = new Map<number, number>();
  for (let i = 0; i < m; i++) {
    if (v[i] === 0) continue;
    const exp = bucketOf(v[i]!) >>> 4;
    per.set(exp, (per.get(exp) ?? 0) + 1);
  }
  if (per.size === 0) return { zeros, minExp: 0, counts: [] };
  const first = Math.min(...per.keys());
  const last = Math.max(...per.keys());
  return { zeros, minExp: first - 1023, counts: Array.from({ length: last - first + 1 }, (_, i) => per.get(first + i) ?? 0) };
}

export function octaveHistogram(top: Int32Array, zeros: number): ErrorHistogram {
  const per = new Array<number>(2047).fill(0);
  for (let k = 0; k < 32768; k++) {
    const c = top[k]!;
    if (c > 0) per[k >>> 4] += c;
  }
  // Bucket 0 holds the zeros along with the subnormals.
  per[0] -= zeros;
  const first = per.findIndex((c) => c > 0);
  if (first < 0) return { zeros, minExp: 0, counts: [] };
  let last = per.length - 1;
  while (per[last] === 0) last--;
  return { zeros, minExp: first - 1023, counts: per.slice(first, last + 1) };
}

/**
 * How a check decides pass: 'elemwise' is numpy/torch isclose on every element; the others hold
 * one statistic of |a − e| to atol + rtol·(the same statistic of |e|) — see compare/isclose.ts.
 */
export const ERROR_STATS = ['elemwise', 'max', 'mean', 'median', 'quantile'] as const;
export type ErrorStat = (typeof ERROR_STATS)[number];
export const DEFAULT_ERROR_QUANTILE = 0.99;
