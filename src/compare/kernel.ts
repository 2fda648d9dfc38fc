/**
 * The element passes of a comparison, run by the compare kernel (wasm/compare.wat): one instance
 * per thread, its memory laid out afresh by each call. isclose.ts decides what to ask for and makes
 * the results into a check; this file only moves data in and out.
 *
 * The tensors are copied into the kernel's memory as float64 a chunk at a time (TypedArray.set
 * converts float32 natively, about a nanosecond an element), so memory stays bounded by CHUNK
 * whatever the tensor's size; a tensor of at most CHUNK elements stays in place for the second
 * pass. State, histograms and maxima are carried from chunk to chunk.
 */
import { compareModule } from '../engine/wasm.js';
import type { Locate, RankPlan } from './stats.js';

type Scan = (
  a: number, e: number, n: number, base: number, bits: number, atol: number, rtol: number, eqnan: number, st: number,
  ha: number, hr: number, he: number,
  inner: number, steps: number, ti: number, t: number, sm: number,
  C: number, QC: number, R: number, c: number, qc: number, r: number, map: number,
) => void;
type Gather = (a: number, e: number, n: number, pa: number, pr: number, pe: number) => void;
/** Element types of a and e: float32 ('f') or float64 ('d'). */
type Kinds = 'ff' | 'fd' | 'df' | 'dd';

interface CompareExports {
  memory: WebAssembly.Memory;
  locate(h: number, nb: number, ranks: number, k: number, out: number): number;
  octaves(h: number, nb: number, sub: number, out: number): void;
  select_rank(src: number, m: number, rank: number, t0: number, t1: number, hist: number): number;
  [fn: `scan_${string}`]: Scan;
  [fn: `gather_${string}`]: Gather;
}

/** Slots of the scan's state (wasm/compare.wat stores them in this order). */
export const MISMATCHED = 0, NON_FINITE = 1, ZERO_EXPECTED = 2, MAX_ABS = 3, MAX_ABS_AT = 4, MAX_REL = 5, MAX_REL_AT = 6, SUM_ABS = 7, FINITE = 8, REQUIRED = 9, FIRST_STEP = 10,
  ZEROS = 11, SUM_D2 = 12, SUM_ED = 13, SUM_E2 = 14, SUM_ABS_E = 15, MAX_ABS_E = 16, REL_COUNT = 17, SAME_INF = 18, REL_ZEROS = 19;
const STATE = 20;

/** Elements per chunk: at most 32 MiB of the kernel's memory for the two tensors. */
const CHUNK = 1 << 21;
/**
 * Histogram buckets: the top 15 bits past the sign (1/16 of an octave), or 19 (1/256) past
 * FINE_FROM elements. The finer buckets make the second pass copy out 16 times fewer values for
 * the select (measured on a 16x200x256 output: 42k values for the median's bucket with 15 bits),
 * at the cost of 2 MiB tables, too many to clear for every small tensor diagnose compares.
 */
const FINE_FROM = 65536;
/** A plan entry: lo0 hi0 lo1 hi1 (f64), buf0 buf1 (i32 addresses), fill0 fill1 (i32). */
const ENTRY = 48;

let instance: CompareExports | undefined;

function kernel(): CompareExports {
  instance ??= new WebAssembly.Instance(compareModule()).exports as unknown as CompareExports;
  return instance;
}

export interface ScanRequest {
  atol: number;
  rtol: number;
  equalNan: boolean;
  /** Top-bits histograms of |a - e|, of the ratios |a - e| / |e| and of |e| (compare/stats.ts). */
  abs: boolean;
  rel: boolean;
  exp: boolean;
  /** The time axis: step of element i = floor(i / inner) % steps; `max`: also max |a - e| per step. */
  time?: { inner: number; steps: number; max: boolean } | undefined;
  /** The heatmap: cell r·C + c of element i, c = i % C, r = floor(i / QC) % R; max |a - e| per cell. */
  map?: { R: number; C: number; QC: number } | undefined;
}

export interface ScanResult {
  /** The state slots above. */
  st: Float64Array;
  /** Bits past the sign a histogram bucket takes (15 or 19; compare/stats.ts planRanks). */
  bits: number;
  /** The histograms: views of the kernel's memory, valid until gather() (which may grow it). */
  hAbs: Int32Array | null;
  hRel: Int32Array | null;
  hExp: Int32Array | null;
  /** compare/stats.ts planRanks' walk over each histogram, in wasm (before gather()). */
  locateAbs: Locate | undefined;
  locateRel: Locate | undefined;
  locateExp: Locate | undefined;
  /** Counts of |a - e| per exponent field, from hAbs (before gather()). */
  octaves(): Float64Array;
  stepMax: Float64Array | null;
  map: Float64Array | null;
  /**
   * The second pass: keeps the values in each plan's ranges (compare/stats.ts planRanks) from the
   * same elements, then selects the plan's ranks among them into its `out`.
   */
  gather(plans: readonly (RankPlan | null)[]): void;
}

/** Bump allocation of the kernel's memory, 64-byte aligned, from byte 64. */
class Layout {
  top = 64;
  take(bytes: number): number {
    const at = this.top;
    this.top += Math.ceil(bytes / 64) * 64;
    return at;
  }
}

function fit(k: CompareExports, bytes: number): void {
  const need = Math.ceil(bytes / 65536) - k.memory.buffer.byteLength / 65536;
  if (need > 0) k.memory.grow(need);
}

/** float32 data is copied as is (half the bytes of widening it); anything else as float64. */
const kindOf = (x: ArrayLike<number>): 'f' | 'd' => (x instanceof Float32Array ? 'f' : 'd');

function put(k: CompareExports, at: number, src: ArrayLike<number>, s0: number, s1: number): void {
  const view = src instanceof Float32Array ? new Float32Array(k.memory.buffer, at, s1 - s0) : new Float64Array(k.memory.buffer, at, s1 - s0);
  if (ArrayBuffer.isView(src)) view.set((src as Float64Array).subarray(s0, s1));
  else for (let i = s0; i < s1; i++) view[i - s0] = src[i]!;
}

/** One pass over a and e (n elements each): isclose, metrics, sums, histograms and maxima. */
export function scanTensors(a: ArrayLike<number>, e: ArrayLike<number>, n: number, q: ScanRequest): ScanResult {
  const k = kernel();
  const kinds = `${kindOf(a)}${kindOf(e)}` as Kinds;
  const scan = k[`scan_${kinds}`];
  const gather = k[`gather_${kinds}`];
  const bits = n > FINE_FROM ? 19 : 15;
  const buckets = 1 << bits;
  const lay = new Layout();
  const st = lay.take(8 * STATE);
  // locate's ranks and answers (at most 4 ranks), and octaves' 2048 counts.
  const scratch = lay.take(128);
  const oct = lay.take(8 * 2048);
  const ha = q.abs ? lay.take(4 * buckets) : 0;
  const hr = q.rel ? lay.take(4 * buckets) : 0;
  const he = q.exp ? lay.take(4 * buckets) : 0;
  const steps = q.time?.steps ?? 0;
  const inner = q.time?.inner ?? 1;
  const sm = q.time?.max && steps > 0 ? lay.take(8 * steps) : 0;
  const mp = q.map ? lay.take(8 * q.map.R * q.map.C) : 0;
  const chunk = Math.max(1, Math.min(n, CHUNK));
  const A = lay.take((kinds[0] === 'f' ? 4 : 8) * chunk);
  const E = lay.take((kinds[1] === 'f' ? 4 : 8) * chunk);
  fit(k, lay.top);
  // Fresh memory is zero, but the instance is reused: clear what this call accumulates into.
  new Uint8Array(k.memory.buffer, 64, (A - 64)).fill(0);
  const state = new Float64Array(k.memory.buffer, st, STATE);
  state[MAX_ABS_AT] = -1;
  state[MAX_REL_AT] = -1;
  state[FIRST_STEP] = -1;
  const { R = 1, C = 1, QC = 1 } = q.map ?? {};
  for (let s0 = 0; s0 < n; s0 += chunk) {
    const s1 = Math.min(n, s0 + chunk);
    put(k, A, a, s0, s1);
    put(k, E, e, s0, s1);
    scan(A, E, s1 - s0, s0, bits, q.atol, q.rtol, q.equalNan ? 1 : 0, st, ha, hr, he,
      inner, steps, s0 % inner, steps > 0 ? Math.floor(s0 / inner) % steps : 0, sm,
      C, QC, R, s0 % C, s0 % QC, Math.floor(s0 / QC) % R, mp);
  }
  const buf = k.memory.buffer;
  const ints = (at: number): Int32Array | null => (at ? new Int32Array(buf, at, buckets) : null);
  const f64s = (at: number, len: number): Float64Array | null => (at ? new Float64Array(buf, at, len).slice() : null);
  const locator = (h: number): Locate | undefined => h === 0 ? undefined : (ranks) => {
    const mem = k.memory.buffer;
    new Float64Array(mem, scratch, ranks.length).set(ranks);
    const found = k.locate(h, buckets, scratch, ranks.length, scratch + 32);
    const out = new Float64Array(mem, scratch + 32, 2 * found);
    return Array.from({ length: found }, (_, j) => ({ digit: out[2 * j]!, below: out[2 * j + 1]! }));
  };
  const result: ScanResult = {
    st: new Float64Array(buf, st, STATE).slice(),
    bits,
    hAbs: ints(ha),
    hRel: ints(hr),
    hExp: ints(he),
    locateAbs: locator(ha),
    locateRel: locator(hr),
    locateExp: locator(he),
    octaves() {
      k.octaves(ha, buckets, bits - 11, oct);
      return new Float64Array(k.memory.buffer, oct, 2048).slice();
    },
    stepMax: f64s(sm, steps),
    map: q.map ? f64s(mp, q.map.R * q.map.C) : null,
    gather(plans) {
      const used = plans.filter((p): p is RankPlan => p !== null && p.count > 0);
      if (used.length === 0) return;
      const entries = lay.take(ENTRY * 3);
      const bufAt = plans.map((p) => (p ? p.sizes.map((size) => lay.take(8 * size)) : []));
      const most = Math.max(...used.flatMap((p) => p.sizes));
      const t0 = lay.take(8 * most);
      const t1 = lay.take(8 * most);
      const hist = lay.take(4 * 65536);
      fit(k, lay.top);
      const mem = k.memory.buffer;
      plans.forEach((p, j) => {
        if (!p || p.count === 0) return;
        const at = entries + ENTRY * j;
        new Float64Array(mem, at, 4).set([p.lo[0]!, p.hi[0]!, p.lo[1]!, p.hi[1]!]);
        new Int32Array(mem, at + 32, 4).set([bufAt[j]![0]!, bufAt[j]![1] ?? 0, 0, 0]);
      });
      const entry = (j: number): number => (plans[j] && plans[j]!.count > 0 ? entries + ENTRY * j : 0);
      for (let s0 = 0; s0 < n; s0 += chunk) {
        const s1 = Math.min(n, s0 + chunk);
        // A tensor of one chunk is still in place from the scan.
        if (n > chunk) {
          put(k, A, a, s0, s1);
          put(k, E, e, s0, s1);
        }
        gather(A, E, s1 - s0, entry(0), entry(1), entry(2));
      }
      plans.forEach((p, j) => {
        if (!p || p.count === 0) return;
        const fills = new Int32Array(k.memory.buffer, entries + ENTRY * j + 40, 2);
        p.groups.forEach((g, r) => {
          // The histogram counted exactly these values: a different fill is a bug, not a data problem.
          if (fills[r] !== p.sizes[r]) throw new Error(`compare: range ${r} kept ${fills[r]} values, its buckets count ${p.sizes[r]}`);
          g.ranks.forEach((rank, i) => (p.out[g.slots[i]!] = k.select_rank(bufAt[j]![r]!, fills[r]!, rank, t0, t1, hist)));
        });
      });
    },
  };
  return result;
}
