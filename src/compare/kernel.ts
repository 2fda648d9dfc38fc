/**
 * The element passes of a comparison, run by the compare kernel (wasm/compare.wat): one instance
 * per thread, its memory laid out afresh by each call. isclose.ts decides what to ask for and makes
 * the results into a check; this file only moves data in and out.
 *
 * The tensors are copied into the kernel's memory a chunk at a time (float32 as float32, anything
 * else as float64; TypedArray.set converts natively) into the same two small buffers, so memory
 * stays bounded by CHUNK whatever the tensor's size; a tensor of at most CHUNK elements stays in
 * place for a second pass. State, histograms and maxima are carried from chunk to chunk.
 *
 * Medians and quantiles: the scan histograms |a - e| and the ratios by their top bits, which says
 * exactly which bucket holds each wanted rank (compare/stats.ts planRanks). The values of those
 * buckets are then needed. For a big tensor a small sample (samplePlan), taken before the scan, says
 * where the ranks will probably fall, and the scan keeps the values of those buckets as it goes
 * (keep tables); only when the sample misjudged (or a buffer filled up) does a second pass, gather,
 * collect them. Either way the ranks are then selected among the kept values exactly.
 */
import { compareModule, type CompareBuild } from '../wasm/load.js';
import { bucketOf, medianQuantileFrom, medianQuantileRanks, planRanks, type Locate, type MedianQuantile, type RankPlan } from './stats.js';

type Scan = (
  a: number, e: number, n: number, base: number, bits: number, atol: number, rtol: number, eqnan: number, st: number,
  ha: number, hr: number, he: number,
  inner: number, steps: number, ti: number, t: number, sm: number,
  C: number, QC: number, R: number, c: number, qc: number, r: number, map: number,
  kpa: number, kpr: number,
) => void;
type Gather = (a: number, e: number, n: number, pa: number, pr: number, pe: number) => void;
/** keepPlan's sample: n elements of a and e; |a - e| into od, the ratios into orr (their count at nr); returns the first count. */
type Sample = (a: number, e: number, n: number, od: number, orr: number, nr: number) => number;
/** Element types of a and e: float32 ('f') or float64 ('d'). */
type Kinds = 'ff' | 'fd' | 'df' | 'dd';

interface CompareExports {
  memory: WebAssembly.Memory;
  locate(h: number, nb: number, ranks: number, k: number, out: number): number;
  octaves(h: number, nb: number, sub: number, out: number): void;
  select_rank(src: number, m: number, rank: number, t0: number, t1: number, hist: number, level0: number, prefix: bigint): number;
  after_rank(src: number, m: number, v: number, r: number): number;
  [fn: `scan_${string}`]: Scan;
  [fn: `gather_${string}`]: Gather;
  [fn: `sample_${string}`]: Sample;
}

/** Slots of the scan's state (wasm/compare.wat stores them in this order). */
export const MISMATCHED = 0, NON_FINITE = 1, ZERO_EXPECTED = 2, MAX_ABS = 3, MAX_ABS_AT = 4, MAX_REL = 5, MAX_REL_AT = 6, SUM_ABS = 7, FINITE = 8, REQUIRED = 9, FIRST_STEP = 10,
  ZEROS = 11, SUM_D2 = 12, SUM_ED = 13, SUM_E2 = 14, SUM_ABS_E = 15, MAX_ABS_E = 16, REL_COUNT = 17, SAME_INF = 18, REL_ZEROS = 19;
const STATE = 20;

/**
 * Elements per chunk: 384 KiB for a float64 and a float32 chunk, which stay in L2 between the copy
 * and the scan. Small on purpose: the kernel's memory is fresh, and the first touch of a fresh page
 * costs more than copying into it, so a small chunk whose pages are reused beats a whole-tensor
 * one, which would touch thousands more pages on a mid-sized case.
 */
const CHUNK = 1 << 15;
let chunkElements = CHUNK;

/** Tests only: a smaller chunk, so crossing chunks takes thousands of elements, not millions. Returns the undo. */
export function chunkForTests(n: number): () => void {
  chunkElements = n;
  return () => void (chunkElements = CHUNK);
}
/**
 * Histogram buckets: the top 15 bits past the sign (1/16 of an octave), compare/stats.ts's; for a
 * tensor of at most SORT_UP_TO elements, 11 (octaves), since every walk over the histogram costs
 * its length and a few values are sorted anyway. Finer ones (19 bits) would keep fewer values for
 * the select, but are no faster with the select in wasm and have 16 times the tables to clear.
 */
const FINE = 15;
/** A plan entry: lo0 hi0 lo1 hi1 (f64), buf0 buf1 (i32 addresses), fill0 fill1 (i32). */
const ENTRY = 48;
/** A keep entry: table, buf, fill (i32). */
const KEEP_ENTRY = 12;
/** Tensors past this many elements keep values during the scan (below it, gather's pass is cheap). */
const KEEP_FROM = 65536;
/** Elements in the sample that places the keep buckets. */
const SAMPLE = 4096;
/** Kept values up to this many are sorted to find a rank, more are radix-selected in wasm. */
const SORT_UP_TO = 4096;

let instance: CompareExports | undefined;

function kernel(): CompareExports {
  instance ??= new WebAssembly.Instance(compareModule()).exports as unknown as CompareExports;
  return instance;
}

/** Tests only: run on one build of the kernel (wasm/load.ts compareModule). Returns the undo. */
export function compareBuildForTests(build: CompareBuild): () => void {
  const mod = compareModule(build);
  if (!mod) throw new Error(`the ${build} build of the compare kernel does not load here`);
  const before = instance;
  instance = new WebAssembly.Instance(mod).exports as unknown as CompareExports;
  return () => void (instance = before);
}

export interface ScanRequest {
  atol: number;
  rtol: number;
  equalNan: boolean;
  /** Top-bits histograms of |a - e| and of the ratios |a - e| / |e| (compare/stats.ts), and of |e|. */
  stats: boolean;
  exp: boolean;
  /** The time axis: step of element i = floor(i / inner) % steps; `max`: also max |a - e| per step. */
  time?: { inner: number; steps: number; max: boolean } | undefined;
  /** The heatmap: cell r·C + c of element i, c = i % C, r = floor(i / QC) % R; max |a - e| per cell. */
  map?: { R: number; C: number; QC: number } | undefined;
  /** q of the quantile whose ranks (with the median's) are wanted: where the scan keeps values. */
  quantile: number;
}

/** Which histogram a plan is for: |a - e|, the ratios, |e|. */
export const ABS = 0, REL = 1, EXP = 2;

/** One rank to select among kept values at byte address buf (m of them), and where it goes. */
interface Job {
  buf: number;
  m: number;
  rank: number;
  plan: RankPlan;
  slot: number;
  /**
   * Which histogram (ABS, REL, EXP) counted the buffer's values; the first bucket of the rank's
   * group (compare/stats.ts planRanks) and the rank within the group's values.
   */
  which: number;
  first: number;
  inGroup: number;
  /** The rank's bucket and its rank among that bucket's values (ranksAt's select starts there). */
  at?: InBucket;
}

/** A rank's top-bits bucket (FINE bits) and its rank among the values of that bucket. */
interface InBucket {
  bucket: number;
  rank: number;
}

export interface ScanResult {
  /** The state slots above. */
  st: Float64Array;
  stepMax: Float64Array | null;
  map: Float64Array | null;
  /**
   * compare/stats.ts planRanks over histogram `which` (ABS, REL, EXP) of m values, its walk in
   * wasm; null when that histogram was not made. Before select(), which may grow the memory.
   */
  plan(which: number, m: number, ranks: readonly number[], zeros: number): RankPlan | null;
  /** Counts of |a - e| per exponent field (before select()). */
  octaves(): Float64Array;
  /**
   * The values at each plan's ranks (plans for ABS, REL, EXP, in that order) into its `out`:
   * selected among the values the scan kept where those cover the plan's buckets, else after a
   * second pass (gather) that keeps exactly them.
   */
  select(plans: readonly [RankPlan | null, RankPlan | null, RankPlan | null]): void;
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

/** Where one scan's buffers lie in the kernel's memory (byte addresses; 0 for one not made). */
interface ScanMemory {
  k: CompareExports;
  lay: Layout;
  /** Top bits per histogram bucket: FINE, or 11 for a tensor of at most SORT_UP_TO elements. */
  bits: number;
  buckets: number;
  st: number;
  /** locate's ranks and answers (at most 4 ranks). */
  scratch: number;
  /** octaves' 2048 counts. */
  oct: number;
  /** The histograms of |a - e|, of the ratios and of |e| (ABS, REL, EXP). */
  hists: [number, number, number];
  steps: number;
  inner: number;
  /** max |a - e| per step, and per heatmap cell. */
  sm: number;
  mp: number;
  /** Elements per chunk, and the two chunk buffers. */
  chunk: number;
  A: number;
  E: number;
  /** Bytes from A to the end of E: the chunk buffers, contiguous. */
  tensorBytes: number;
}

/** The two tensors compared: n elements each, and their element types. */
interface Tensors {
  a: ArrayLike<number>;
  e: ArrayLike<number>;
  n: number;
  kinds: Kinds;
}

/** The keep tables of |a - e| and of the ratios (keepPlan), for a tensor big enough to keep. */
type Keeps = [Keep | undefined, Keep | undefined];

/** One pass over a and e (n elements each): isclose, metrics, sums, histograms and maxima. */
export function scanTensors(a: ArrayLike<number>, e: ArrayLike<number>, n: number, q: ScanRequest): ScanResult {
  const k = kernel();
  const t: Tensors = { a, e, n, kinds: `${kindOf(a)}${kindOf(e)}` as Kinds };
  const mem = layOutScan(k, t, q);
  // Keep tables are in FINE buckets: KEEP_FROM is past SORT_UP_TO.
  const keeps: Keeps = n > KEEP_FROM && q.stats ? keepPlan(k, t.kinds, a, e, n, mem.chunk, [0.5, q.quantile], mem.lay) : [undefined, undefined];
  fit(k, mem.lay.top);
  clearScan(mem, keeps);
  scanPass(mem, t, q, keeps);
  return scanResult(mem, t, q, keeps);
}

/** Takes the scan's buffers, in this order: state, scratch, octaves, histograms, maxima, chunks. */
function layOutScan(k: CompareExports, t: Tensors, q: ScanRequest): ScanMemory {
  const bits = t.n <= SORT_UP_TO ? 11 : FINE;
  const buckets = 1 << bits;
  const lay = new Layout();
  const st = lay.take(8 * STATE);
  const scratch = lay.take(128);
  const oct = lay.take(8 * 2048);
  const ha = q.stats ? lay.take(4 * buckets) : 0;
  const hr = q.stats ? lay.take(4 * buckets) : 0;
  const he = q.exp ? lay.take(4 * buckets) : 0;
  const steps = q.time?.steps ?? 0;
  const inner = q.time?.inner ?? 1;
  const sm = q.time?.max && steps > 0 ? lay.take(8 * steps) : 0;
  const mp = q.map ? lay.take(8 * q.map.R * q.map.C) : 0;
  const chunk = Math.max(1, Math.min(t.n, chunkElements));
  const A = lay.take((t.kinds[0] === 'f' ? 4 : 8) * chunk);
  const E = lay.take((t.kinds[1] === 'f' ? 4 : 8) * chunk);
  return { k, lay, bits, buckets, st, scratch, oct, hists: [ha, hr, he], steps, inner, sm, mp, chunk, A, E, tensorBytes: lay.top - A };
}

/** Fresh memory is zero, but the instance is reused: clears what this call accumulates into. */
function clearScan(mem: ScanMemory, keeps: Keeps): void {
  const { k } = mem;
  new Uint8Array(k.memory.buffer, 64, (mem.A - 64)).fill(0);
  for (const kp of keeps) if (kp) kp.write(k.memory.buffer);
  const state = new Float64Array(k.memory.buffer, mem.st, STATE);
  state[MAX_ABS_AT] = -1;
  state[MAX_REL_AT] = -1;
  state[FIRST_STEP] = -1;
}

/** The scan itself, a chunk at a time. */
function scanPass(mem: ScanMemory, t: Tensors, q: ScanRequest, keeps: Keeps): void {
  const { k, A, E, chunk, bits, st, steps, inner, sm, mp } = mem;
  const [ha, hr, he] = mem.hists;
  const { a, e, n } = t;
  const scan = k[`scan_${t.kinds}`];
  const { R = 1, C = 1, QC = 1 } = q.map ?? {};
  for (let s0 = 0; s0 < n; s0 += chunk) {
    const s1 = Math.min(n, s0 + chunk);
    put(k, A, a, s0, s1);
    put(k, E, e, s0, s1);
    scan(A, E, s1 - s0, s0, bits, q.atol, q.rtol, q.equalNan ? 1 : 0, st, ha, hr, he,
      inner, steps, s0 % inner, steps > 0 ? Math.floor(s0 / inner) % steps : 0, sm,
      C, QC, R, s0 % C, s0 % QC, Math.floor(s0 / QC) % R, mp, keeps[0]?.entry ?? 0, keeps[1]?.entry ?? 0);
    stopOverflowed(k, keeps);
  }
}

/** A buffer past its plan stops keeping (table 0): the next chunk could write past its room. */
function stopOverflowed(k: CompareExports, keeps: Keeps): void {
  for (const kp of keeps) {
    if (!kp || kp.overflowed) continue;
    const entry = new Int32Array(k.memory.buffer, kp.entry, 3);
    if (entry[2]! > kp.cap) {
      kp.overflowed = true;
      entry[0] = 0;
    }
  }
}

/** The scan's answers, read out of the kernel's memory, and its ranks on request. */
function scanResult(mem: ScanMemory, t: Tensors, q: ScanRequest, keeps: Keeps): ScanResult {
  const { k, buckets, bits, hists } = mem;
  const f64s = (at: number, len: number): Float64Array | null => (at ? new Float64Array(k.memory.buffer, at, len).slice() : null);
  return {
    st: new Float64Array(k.memory.buffer, mem.st, STATE).slice(),
    plan(which, m, ranks, zeros) {
      const h = hists[which]!;
      return h === 0 ? null : planRanks(new Int32Array(k.memory.buffer, h, buckets), m, ranks, zeros, locator(mem, h), bits);
    },
    octaves() {
      k.octaves(hists[ABS], buckets, bits - 11, mem.oct);
      return new Float64Array(k.memory.buffer, mem.oct, 2048).slice();
    },
    stepMax: f64s(mem.sm, mem.steps),
    map: q.map ? f64s(mem.mp, q.map.R * q.map.C) : null,
    select(plans) {
      selectPlans(mem, t, keeps, plans);
    },
  };
}

/** locate over the histogram at h: the digit and the count below it of each rank. */
function locator(mem: ScanMemory, h: number): Locate {
  const { k, scratch } = mem;
  return (ranks) => {
    const buf = k.memory.buffer;
    new Float64Array(buf, scratch, ranks.length).set(ranks);
    const found = k.locate(h, mem.buckets, scratch, ranks.length, scratch + 32);
    const out = new Float64Array(buf, scratch + 32, 2 * found);
    return Array.from({ length: found }, (_, j) => ({ digit: out[2 * j]!, below: out[2 * j + 1]! }));
  };
}

/**
 * ScanResult.select: the ranks answered by the kept values first, the others after a gather pass;
 * then a few values sorted, more selected in wasm.
 */
function selectPlans(mem: ScanMemory, t: Tensors, keeps: Keeps, plans: readonly [RankPlan | null, RankPlan | null, RankPlan | null]): void {
  const jobs: Job[] = [];
  const pending: (RankPlan | null)[] = [null, null, null];
  plans.forEach((p, j) => {
    if (!p || p.count === 0) return;
    const mine = keptJobs(mem, j < 2 ? keeps[j] : undefined, p, j);
    if (mine) jobs.push(...mine);
    else pending[j] = p;
  });
  if (pending.some((p) => p !== null)) jobs.push(...gatherPass(mem, t, pending));
  if (jobs.length === 0) return;
  const big = sortFew(mem, jobs);
  if (big.length === 0) return;
  if (mem.bits === FINE) placeInBuckets(mem, big);
  selectMany(mem, big);
}

/**
 * The select jobs of plan p (histogram j) among the values keep kp kept, or null when they do not
 * answer it: every group of the plan must lie inside one kept range of a buffer that did not
 * overflow; the rank within the kept values is the group's plus the values of the kept buckets
 * below the group's first. Worked out before anything is allocated (which may grow the memory and
 * detach the histograms' views).
 */
function keptJobs(mem: ScanMemory, kp: Keep | undefined, p: RankPlan, j: number): Job[] | null {
  const { k, buckets, hists } = mem;
  const mine: Job[] = [];
  const kept = kp !== undefined && !kp.overflowed && p.groups.every((g, r) => {
    const buf = k.memory.buffer;
    const hist = new Int32Array(buf, hists[j]!, buckets);
    const fill = new Int32Array(buf, kp.entry + 8, 1)[0]!;
    if (!kp.ranges.some(([from, to]) => from <= p.from[r]! && p.to[r]! <= to)) return false;
    // The buffer holds every kept range's values: those below the group's first bucket.
    let skip = 0;
    for (const [from, to] of kp.ranges) for (let d = from; d <= to && d < p.from[r]!; d++) skip += hist[d]!;
    g.ranks.forEach((rank, i) => mine.push({ buf: kp.buf, m: fill, rank: rank + skip, plan: p, slot: g.slots[i]!, which: j, first: p.from[r]!, inGroup: rank }));
    return true;
  });
  return kept ? mine : null;
}

/** gather's pass for the plans given, keeping exactly their ranges' values: the select jobs. */
function gatherPass(mem: ScanMemory, t: Tensors, plans: (RankPlan | null)[]): Job[] {
  const { k, lay, A, E, chunk } = mem;
  const { a, e, n } = t;
  const gather = k[`gather_${t.kinds}`];
  const entries = lay.take(ENTRY * 3);
  const bufAt = plans.map((p) => (p ? p.sizes.map((size) => lay.take(8 * size)) : []));
  fit(k, lay.top);
  const buf = k.memory.buffer;
  plans.forEach((p, j) => {
    if (!p) return;
    const at = entries + ENTRY * j;
    new Float64Array(buf, at, 4).set([p.lo[0]!, p.hi[0]!, p.lo[1]!, p.hi[1]!]);
    new Int32Array(buf, at + 32, 4).set([bufAt[j]![0]!, bufAt[j]![1] ?? 0, 0, 0]);
  });
  const entry = (j: number): number => (plans[j] ? entries + ENTRY * j : 0);
  for (let s0 = 0; s0 < n; s0 += chunk) {
    const s1 = Math.min(n, s0 + chunk);
    // A tensor of one chunk is still in place from the scan.
    if (n > chunk) {
      put(k, A, a, s0, s1);
      put(k, E, e, s0, s1);
    }
    gather(A, E, s1 - s0, entry(0), entry(1), entry(2));
  }
  const jobs: Job[] = [];
  plans.forEach((p, j) => {
    if (!p) return;
    const fills = new Int32Array(k.memory.buffer, entries + ENTRY * j + 40, 2);
    p.groups.forEach((g, r) => {
      // The histogram counted exactly these values: a different fill is a bug, not a data problem.
      if (fills[r] !== p.sizes[r]) throw new Error(`compare: range ${r} kept ${fills[r]} values, its buckets count ${p.sizes[r]}`);
      g.ranks.forEach((rank, i) => jobs.push({ buf: bufAt[j]![r]!, m: fills[r]!, rank, plan: p, slot: g.slots[i]!, which: j, first: p.from[r]!, inGroup: rank }));
    });
  });
  return jobs;
}

/**
 * Answers the jobs among at most SORT_UP_TO values and returns the others. A few values are sorted
 * outright (TypedArray sort is built into V8): select_rank clears a 65536-bucket table per level,
 * which would dominate comparing a small tensor.
 */
function sortFew(mem: ScanMemory, jobs: Job[]): Job[] {
  const sorted = new Map<number, Float64Array>();
  const big = jobs.filter((x) => x.m > SORT_UP_TO);
  for (const x of jobs) {
    if (x.m > SORT_UP_TO) continue;
    let v = sorted.get(x.buf);
    if (!v) sorted.set(x.buf, (v = new Float64Array(mem.k.memory.buffer, x.buf, x.m).slice().sort()));
    x.plan.out[x.slot] = v[x.rank]!;
  }
  return big;
}

/**
 * Each rank's bucket, from the histogram that counted its buffer (its group's values are those of
 * buckets first, first + 1, ...): the select starts there and looks only at that bucket's values,
 * which makes the selects markedly cheaper.
 */
function placeInBuckets(mem: ScanMemory, big: Job[]): void {
  for (const x of big) {
    const hist = new Int32Array(mem.k.memory.buffer, mem.hists[x.which]!, mem.buckets);
    let d = x.first;
    let below = 0;
    while (below + hist[d]! <= x.inGroup) below += hist[d++]!;
    x.at = { bucket: d, rank: x.inGroup - below };
  }
}

/** Selects the ranks of the jobs among more than SORT_UP_TO values in wasm, each buffer's together. */
function selectMany(mem: ScanMemory, big: Job[]): void {
  const { k, lay } = mem;
  // The select's scratch: its digit counts where the two tensors' chunk was, when it is big
  // enough (the scan and any gather are done with it, and its pages are already touched: fresh
  // ones would make a first select pay for their first touch), else new memory; and room for
  // the values it copies out (an eighth of a buffer at most, select_rank), touched only if it does.
  const room = Math.floor(Math.max(...big.map((x) => x.m)) / 8) + 1;
  const hist = 4 * 65536 <= mem.tensorBytes ? mem.A : lay.take(4 * 65536);
  const t0 = lay.take(16 * room);
  const t1 = t0 + 8 * room;
  fit(k, lay.top);
  // Each buffer's ranks together, ascending (ranksAt).
  big.sort((x, y) => x.buf - y.buf || x.rank - y.rank);
  for (let i = 0; i < big.length;) {
    let j = i;
    while (j < big.length && big[j]!.buf === big[i]!.buf) j++;
    const run = big.slice(i, j);
    const values = ranksAt(k, run[0]!.buf, run[0]!.m, run.map((x) => x.rank), t0, t1, hist, run.map((x) => x.at));
    run.forEach((x, n) => (x.plan.out[x.slot] = values[n]!));
    i = j;
  }
}

/**
 * The values at `ranks` (ascending, each < m) among the m float64 at byte address src of the
 * kernel's memory (non-negative, not modified): select_rank for each, except that a rank right
 * after the one before it (the two middle ranks of a median, the two a quantile interpolates
 * between) is one pass from that one's value (after_rank), and a repeated rank is not selected
 * again. `at`: each rank's bucket and its rank within it, where known: the select then looks only
 * at that bucket's values (select_rank from level 1). t0, t1: room for m / 8 + 1 doubles each
 * (select_rank copies out at most an eighth of the values it looks at); hist: 65536 i32.
 */
function ranksAt(k: CompareExports, src: number, m: number, ranks: readonly number[], t0: number, t1: number, hist: number, at: readonly (InBucket | undefined)[] = []): number[] {
  const out: number[] = [];
  const select = (r: number, b: InBucket | undefined): number =>
    b ? k.select_rank(src, m, b.rank, t0, t1, hist, 1, BigInt(b.bucket) << 48n) : k.select_rank(src, m, r, t0, t1, hist, 0, 0n);
  ranks.forEach((r, i) => {
    const prev = i > 0 ? ranks[i - 1]! : -2;
    out.push(r === prev ? out[i - 1]! : r === prev + 1 ? k.after_rank(src, m, out[i - 1]!, prev) : select(r, at[i]));
  });
  return out;
}

/**
 * The values at `ranks` (0-based positions in ascending order; any order, duplicates allowed, each
 * < m) of the non-negative finite values buf[0..m), -0 counted as 0; buf is not modified. The
 * selection compareTensors makes, on any array: up to SORT_UP_TO values are sorted, more go
 * through the kernel's radix select.
 */
export function selectRanks(buf: ArrayLike<number>, m: number, ranks: readonly number[]): number[] {
  const k = kernel();
  const lay = new Layout();
  const src = lay.take(8 * m);
  const big = m > SORT_UP_TO;
  const room = Math.floor(m / 8) + 1;
  const t0 = big ? lay.take(8 * room) : 0;
  const t1 = big ? lay.take(8 * room) : 0;
  const hist = big ? lay.take(4 * 65536) : 0;
  fit(k, lay.top);
  const v = new Float64Array(k.memory.buffer, src, m);
  // + 0 turns -0 into 0, which the select's bit order would put past every positive value.
  for (let i = 0; i < m; i++) v[i] = buf[i]! + 0;
  if (!big) {
    v.sort();
    return ranks.map((r) => v[r]!);
  }
  const order = ranks.map((r, i) => [r, i] as const).sort((a, b) => a[0] - b[0]);
  const values = ranksAt(k, src, m, order.map(([r]) => r), t0, t1, hist);
  const out = new Array<number>(ranks.length);
  order.forEach(([, i], n) => (out[i] = values[n]!));
  return out;
}

/** np.median and np.quantile(x, q) of buf[0..m) (non-negative, finite), in one selection; null for m = 0. */
export function medianAndQuantile(buf: ArrayLike<number>, m: number, q: number): MedianQuantile | null {
  if (m === 0) return null;
  return medianQuantileFrom(selectRanks(buf, m, medianQuantileRanks(m, q)), m, q);
}

interface Keep {
  entry: number;
  /** Bucket ranges [from, to] whose values the buffer keeps (one or two, disjoint). */
  ranges: [number, number][];
  buf: number;
  /** How many values the plan expects at most; the buffer has room for a chunk more. */
  cap: number;
  /** The fill passed cap after some chunk: the scan stopped keeping, and gather collects instead. */
  overflowed: boolean;
  /** Writes the entry and the table into the (cleared) memory. */
  write(mem: ArrayBuffer): void;
}

/**
 * Where keepPlan samples a tensor of n elements: runs of `run` consecutive elements (SAMPLE in all)
 * starting every `stride` elements, a prime, so the runs do not line up with an axis. Runs, not
 * single elements: a stride past a page misses the cache and the TLB at every element; a run of 8
 * is one cache line of float64.
 */
export function samplePlan(n: number): { stride: number; run: number } {
  const run = 8;
  let stride = Math.max(run, Math.floor((n * run) / SAMPLE));
  while (!isPrime(stride)) stride++;
  return { stride, run };
}

/**
 * Where to keep values during the scan, for |a - e| (0) and the ratios (1): a sample (samplePlan)
 * sorted, and for each fraction p the buckets between the sample's values five standard errors
 * either side of p — the ranks fall outside them with a probability under 1e-6 for independent
 * samples (neighbours in a run are less so; a misjudged plan costs a second pass, gather, not a
 * wrong number) — with room for 1.5 times the share of the sample they hold. Bucket 0 (exact zeros
 * and subnormals) is never kept: planRanks answers all-zero buckets itself.
 */
function keepPlan(k: CompareExports, kinds: Kinds, a: ArrayLike<number>, e: ArrayLike<number>, n: number, chunk: number, ps: number[], lay: Layout): [Keep | undefined, Keep | undefined] {
  const { stride, run } = samplePlan(n);
  // The sampled runs side by side in the kernel's memory, and room for its two outputs.
  const most = Math.ceil(n / stride) * run;
  const [wa, we] = [kinds[0] === 'f' ? 4 : 8, kinds[1] === 'f' ? 4 : 8];
  const sa = lay.take(wa * most);
  const se = lay.take(we * most);
  const od = lay.take(8 * most);
  const orr = lay.take(8 * most);
  const nr = lay.take(8);
  fit(k, lay.top);
  let m = 0;
  for (let g = 0; g < n; g += stride) {
    const end = Math.min(n, g + run);
    put(k, sa + wa * m, a, g, end);
    put(k, se + we * m, e, g, end);
    m += end - g;
  }
  const nd = k[`sample_${kinds}`](sa, se, m, od, orr, nr);
  const d = new Float64Array(k.memory.buffer, od, nd).slice();
  const r = new Float64Array(k.memory.buffer, orr, new Int32Array(k.memory.buffer, nr, 1)[0]!).slice();
  const plan = (sorted: Float64Array): Keep | undefined => {
    const s = sorted.length;
    if (s === 0) return undefined;
    sorted.sort();
    let ranges: [number, number][] = ps.map((p) => {
      const c = p * (s - 1);
      const w = Math.ceil(5 * Math.sqrt(s * p * (1 - p)) + 16);
      return [Math.max(1, bucketOf(sorted[Math.max(0, Math.floor(c) - w)]!)), bucketOf(sorted[Math.min(s - 1, Math.ceil(c) + w)]!)];
    });
    ranges = ranges.filter(([from, to]) => from <= to);
    if (ranges.length === 2 && ranges[1]![0] <= ranges[0]![1] + 1 && ranges[0]![0] <= ranges[1]![1] + 1) {
      ranges = [[Math.min(ranges[0]![0], ranges[1]![0]), Math.max(ranges[0]![1], ranges[1]![1])]];
    }
    if (ranges.length === 0) return undefined;
    const inSample = ranges.reduce((sum, [from, to]) => sum + firstInBucket(sorted, to + 1) - firstInBucket(sorted, from), 0);
    const cap = Math.min(n, Math.ceil((1.5 * inSample * n) / s) + 4096 * ranges.length);
    const entry = lay.take(KEEP_ENTRY);
    const table = lay.take(BUCKETS_BYTES);
    // The scan writes every value at the fill and moves it on past the kept ones (wasm/build.mjs
    // keep), and scanTensors stops the keeping after the first chunk that passes cap: room for a
    // chunk more, and one slot for the value written past the last kept one. Pages past what is
    // written are never touched.
    const buf = lay.take(8 * (cap + chunk + 1));
    return {
      entry, ranges, buf, cap, overflowed: false,
      write(mem) {
        const t = new Uint8Array(mem, table, BUCKETS_BYTES).fill(0);
        for (const [from, to] of ranges) t.fill(1, from, to + 1);
        new Int32Array(mem, entry, 3).set([table, buf, 0]);
      },
    };
  };
  return [plan(d), plan(r)];
}

/**
 * The index of the first of `sorted` (ascending, non-negative) in bucket b or above, by bisection:
 * bucketOf is monotonic on non-negative doubles. Counting with a filter instead would call bucketOf
 * on every sampled value, which a fresh process runs on the interpreter.
 */
function firstInBucket(sorted: Float64Array, b: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bucketOf(sorted[mid]!) < b) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A keep table: one byte per bucket. */
const BUCKETS_BYTES = 32768;

function isPrime(k: number): boolean {
  for (let f = 2; f * f <= k; f++) if (k % f === 0) return false;
  return k >= 2;
}
