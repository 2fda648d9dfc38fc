/**
 * The fast engine: runners for the stack driver (src/gru/stack.ts) that compute each direction
 * with blocked matrix products (direction.ts, kernel.ts):
 *   - per layer and direction, the input projection of a chunk of steps is one (rows x I)·(I x 3H)
 *     product, and each step's recurrent product is one (Bw x H)·(H x 3H) product over the batch
 *     share, register-blocked;
 *   - float32 models in f32 precision use the f32x4 wasm SIMD kernel (wasm/gemm.wat), with float32
 *     partial sums folded into double, and double for everything after the products; everything
 *     else (float64 models, f64 precision, no wasm SIMD) uses the double-precision JS kernel. Both
 *     compute every GateMath option (kernel.ts);
 *   - with more than one thread, each layer's directions and batch ranges are split into pieces:
 *     this thread runs the first piece itself (its code is already warm, and one worker fewer
 *     needs starting) while workers (pool.ts) run the others on shared memory.
 *
 * The thread policy lives here and only here (`chooseThreads`).
 *
 * Axis order: input (T, B, I) seq-first; output (T, B, D*H) with features [forward | backward];
 * h0 and hN (L*D, B, H) with index layer*D + direction.
 */
import type { PieceTrace } from '../result.js';
import { availableParallelism } from 'node:os';
import type { FloatArray, GruDirectionParams, Precision, StatePrecision } from '../model/types.js';
import { GruCheckError } from '../errors.js';
import { nextTurn, type RunControl } from '../gru/control.js';
import { gruFlops, runStack, type DirectionJob, type GruRunInput, type GruRunOptions, type GruRunResult, type LayerJob, type Runner, type Work } from '../gru/stack.js';
import { itemWork, KernelSource, type KernelKind } from './item.js';
import type { PieceTimes } from '../result.js';
import { closeWorkers, prewarm, ready, shareQueue } from './pool.js';
import { gemmModule } from '../wasm/load.js';
import { now } from '../clock.js';

export interface FastOptions extends RunControl {
  /** Threads; default chooseThreads(). 1 runs in-process with no workers. */
  threads?: number | undefined;
  /** 'auto' (default): wasm SIMD when it applies and is available; 'js' forces the JS kernel. */
  kernel?: 'auto' | 'js' | undefined;
}

/**
 * Below this many flops the default stays on one thread: a piece handed to a worker must pay for
 * its own weight packing and a message round trip per layer, and a cold worker's first compile.
 * Measured with `npm run bench` (cold CLI runs): see docs/speed.md.
 */
export const MIN_PARALLEL_FLOPS = 2e8;

/** With workers joining or running, this thread turns the event loop this often (see runLayer). */
const TURN_MS = 3;

/** Flops of in-process work between two looks at the clock (~0.1 ms): makes pacing nearly free. */
const IN_PROCESS_GRAIN = 2e6;

/** Which kernel a run with these inputs would use, for reports and tests. */
export function fastKernelFor(run: GruRunInput, options: GruRunOptions & FastOptions): KernelKind {
  const { params } = run;
  const allF32 =
    run.input instanceof Float32Array &&
    params.layers.every((l) => l.every((p) => [p.weightIh, p.weightHh, p.biasIh, p.biasHh].every((a) => a === undefined || a instanceof Float32Array)));
  return options.kernel !== 'js' && options.precision === 'f32' && allF32 && gemmModule() ? 'wasm' : 'js';
}

/** How many pieces a layer of this run can be cut into: directions, then batch ranges. */
function maxPieces(run: GruRunInput): number {
  return (run.params.bidirectional ? 2 : 1) * run.batchSize;
}

/**
 * The thread policy, here and only here: an explicit count is honoured (capped by the pieces a
 * layer has: directions times batch rows), starting workers as needed; by default a run of at
 * least MIN_PARALLEL_FLOPS may use every core, but only workers that already exist join
 * (`prewarmFastEngine` starts them ahead), and only as they become ready (pool.ts's queue), so the
 * default is never slower than this thread alone by more than the cost of cutting the batch.
 */
export function chooseThreads(run: GruRunInput, requested?: number): number {
  const cap = maxPieces(run);
  if (requested !== undefined) return Math.max(1, Math.min(cap, Math.floor(requested)));
  return gruFlops(run) >= MIN_PARALLEL_FLOPS ? Math.max(1, Math.min(cap, availableParallelism())) : 1;
}

/** Starts the workers a run on `threads` threads would use, ahead of it (see pool.ts). */
export function prewarmFastEngine(threads = availableParallelism()): void {
  if (threads > 1) prewarm(threads - 1, gemmModule());
}

/** Starts them and resolves once they are ready (tests and the bench, to measure warm workers). */
export async function warmFastEngine(threads = availableParallelism()): Promise<void> {
  if (threads > 1) await ready(threads - 1, gemmModule());
}

/**
 * Kernel sources for in-process runs. A run holds one while it computes; since runs yield to the
 * event loop, two can overlap, and each needs its own wasm instance (its memory is the scratch).
 */
const idleSources: KernelSource[] = [];

function* inProcess(job: DirectionJob, b0: number, b1: number, kind: KernelKind, times?: PieceTimes): Generator<number, void, void> {
  const source = idleSources.pop() ?? new KernelSource(gemmModule());
  try {
    const work = itemWork(job, b0, b1, kind, source, IN_PROCESS_GRAIN);
    if (times) times.setup = now();
    yield* work;
  } finally {
    idleSources.push(source);
  }
}

/** inProcess, recording the piece in `trace`. */
function* traced(trace: PieceTrace[], layer: number, thread: 'main', job: DirectionJob, b0: number, b1: number, kind: KernelKind): Generator<number, void, void> {
  const times: PieceTimes = { start: now(), setup: 0, end: 0 };
  yield* inProcess(job, b0, b1, kind, times);
  times.end = now();
  trace.push({ layer, direction: job.direction, b0, b1, thread, ...times });
}

export interface FastRunner extends Runner {
  readonly threads: number;
  readonly kind: KernelKind;
  /** Every piece of the run, in the order they ended. */
  readonly trace: PieceTrace[];
}

/** Float32 copies on shared memory, made once per run: a view posted to a worker would copy its whole buffer. */
function sharedParams(p: GruDirectionParams, cache: Map<GruDirectionParams, GruDirectionParams>, type: 'f32' | 'f64'): GruDirectionParams {
  let q = cache.get(p);
  if (!q) {
    const share = (a: FloatArray): FloatArray => {
      const out = type === 'f32' ? new Float32Array(new SharedArrayBuffer(a.length * 4)) : new Float64Array(new SharedArrayBuffer(a.length * 8));
      out.set(a);
      return out;
    };
    q = { inputSize: p.inputSize, weightIh: share(p.weightIh), weightHh: share(p.weightHh) };
    if (p.biasIh) q.biasIh = share(p.biasIh);
    if (p.biasHh) q.biasHh = share(p.biasHh);
    cache.set(p, q);
  }
  return q;
}

export function fastRunner(run: GruRunInput, options: GruRunOptions & FastOptions): FastRunner {
  const kind = fastKernelFor(run, options);
  const threads = chooseThreads(run, options.threads);
  const floatType = (): 'f32' | 'f64' => (kind === 'wasm' ? 'f32' : 'f64');
  const refuse = (_math: unknown, precision: StatePrecision): void => {
    if (precision !== 'f32' && precision !== 'f64') throw new GruCheckError('USAGE', `the fast engine computes float32 or float64 states, not ${String(precision)}: use the reference engine`);
  };
  if (threads === 1) {
    return {
      name: 'fast',
      threads,
      kind,
      floatType,
      refuse,
      trace: [],
      *runLayer(job) {
        for (const d of job.directions) yield* traced(this.trace, job.layer, 'main', d, 0, d.batchSize, kind);
      },
    };
  }

  // Split: `threads` pieces per layer, directions first, then contiguous batch ranges, in one queue
  // that this thread and the workers take from (pool.ts): a worker that is still starting takes
  // what is left when it is ready, or nothing.
  const s: SplitRun = {
    run,
    kind,
    threads,
    explicit: options.threads !== undefined,
    splits: batchSplits(run, threads),
    module: gemmModule(),
    shared: new Map(),
    floatType,
    outsideBase: 0,
    progress: undefined,
    used: 1,
    trace: [],
  };
  return {
    trace: s.trace,
    name: 'fast',
    get threads() {
      return s.used;
    },
    kind,
    floatType,
    refuse,
    alloc: (n, type) => (type === 'f32' ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float64Array(new SharedArrayBuffer(n * 8))),
    outsideDone: () => outsideDone(s),
    runLayer(job, signal) {
      return runSplitLayer(s, job, signal);
    },
  };
}

/** A run split over threads: what every layer shares, and the progress of the layer running. */
interface SplitRun {
  run: GruRunInput;
  kind: KernelKind;
  threads: number;
  /** The thread count was asked for: each thread computes its round-robin share. */
  explicit: boolean;
  /** Batch ranges per direction. */
  splits: number;
  module: WebAssembly.Module | undefined;
  /** Each direction's weights, copied once into shared memory. */
  shared: Map<GruDirectionParams, GruDirectionParams>;
  floatType: () => 'f32' | 'f64';
  /** Work done outside this thread by the layers before this one, and the counters of this one's pieces. */
  outsideBase: number;
  progress: BigInt64Array | undefined;
  /** Threads that computed some piece (this one and the workers that took any). */
  used: number;
  trace: PieceTrace[];
}

/**
 * Batch ranges per direction. One direction: two batch ranges per thread (of at least 4 rows, one
 * register tile), so a worker that joins late still finds work and the threads end together. Two
 * directions are the pieces themselves: cutting them further is slower (smaller products, more
 * per-step overhead).
 */
function batchSplits(run: GruRunInput, threads: number): number {
  const D = run.params.bidirectional ? 2 : 1;
  const perThread = D === 1 ? 2 : 1;
  return Math.max(1, Math.min(run.batchSize, Math.max(Math.floor(threads / D), Math.min(Math.floor(run.batchSize / 4), Math.ceil((perThread * threads) / D)))));
}

function outsideDone(s: SplitRun): number {
  let n = s.outsideBase;
  const progress = s.progress;
  if (progress) for (let i = 0; i < progress.length; i++) n += Number(Atomics.load(progress, i));
  return n;
}

/** One layer's pieces: for each direction, `splits` contiguous batch ranges. */
function layerPieces(job: LayerJob, batchSize: number, splits: number): Piece[] {
  const pieces: Piece[] = [];
  for (let d = 0; d < job.directions.length; d++) {
    for (let s = 0; s < splits; s++) pieces.push({ d, b0: Math.floor((batchSize * s) / splits), b1: Math.floor((batchSize * (s + 1)) / splits) });
  }
  return pieces;
}

interface Piece {
  d: number;
  b0: number;
  b1: number;
}

/** One layer over the threads: this thread computes pieces while the workers take theirs from the queue. */
function* runSplitLayer(s: SplitRun, job: LayerJob, signal: AbortSignal | undefined): Generator<Work, void, void> {
  const { explicit, threads, kind, trace } = s;
  const pieces = layerPieces(job, s.run.batchSize, s.splits);
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const layerProgress = new BigInt64Array(new SharedArrayBuffer(8 * pieces.length));
  s.progress = layerProgress;
  // By default every piece is in one queue. An explicit thread count is honoured as asked:
  // this thread computes only its round-robin share and waits for the workers to do theirs.
  const mine = explicit ? pieces.filter((_, i) => i % threads === 0) : pieces;
  const theirs = explicit ? pieces.filter((_, i) => i % threads !== 0) : pieces;
  const slotOf = new Map(pieces.map((p, i) => [p, i]));
  let next = 0;
  let nextTheirs = 0;
  const workersUsed = new Set<number>();
  const queue = shareQueue(
    threads - 1,
    () => {
      let p: Piece | undefined;
      if (explicit) p = nextTheirs < theirs.length ? theirs[nextTheirs++] : undefined;
      else if (next < pieces.length) p = pieces[next++];
      if (!p) return undefined;
      const slot = slotOf.get(p)!;
      const dj = job.directions[p.d]!;
      workersUsed.add(slot);
      return { job: { ...dj, params: sharedParams(dj.params, s.shared, s.floatType()) }, b0: p.b0, b1: p.b1, kind, progress: layerProgress, slot, stop };
    },
    {
      module: s.module, spawn: explicit, signal, cancel: () => Atomics.store(stop, 0, 1),
      reserved: () => (explicit ? theirs.length - nextTheirs : 0),
      onDone: (piece, times) => {
        if (times) trace.push({ layer: job.layer, direction: piece.job.direction, b0: piece.b0, b1: piece.b1, thread: 'worker', ...times });
      },
    },
  );
  let finished = false;
  try {
    // While this thread computes, a worker's "ready" or "piece done" is a message, seen only on
    // a turn of the event loop: take one every TURN_MS (not only every SLICE_MS of pacing), so
    // a worker that becomes free gets the next piece within milliseconds.
    let lastTurn = now();
    let nextMine = 0;
    for (;;) {
      const p = explicit ? mine[nextMine++] : next < pieces.length ? pieces[next++] : undefined;
      if (!p) break;
      for (const w of traced(trace, job.layer, 'main', job.directions[p.d]!, p.b0, p.b1, kind)) {
        yield w;
        if (queue.active() && now() - lastTurn >= TURN_MS) {
          yield nextTurn();
          lastTurn = now();
        }
      }
    }
    yield queue.finish();
    finished = true;
  } finally {
    if (!finished) queue.stop();
    s.used = Math.max(s.used, 1 + Math.min(threads - 1, workersUsed.size));
    s.outsideBase = outsideDone(s);
    s.progress = undefined;
  }
}

/** The stack on the fast engine, on the event loop (paced, progress, AbortSignal). */
export async function runGruFast(run: GruRunInput, options: GruRunOptions & FastOptions): Promise<GruRunResult> {
  return runStack(run, options, fastRunner(run, options), options);
}

export { gruFlops };

/** Ends the worker threads now (they are unref'd and never hold the process open anyway). */
export const closeFastEngine = closeWorkers;
