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
import { availableParallelism } from 'node:os';
import type { FloatArray, GruDirectionParams, Precision } from '../model/types.js';
import type { RunControl } from '../gru/control.js';
import { gruFlops, runStack, type DirectionJob, type GruRunInput, type GruRunOptions, type GruRunResult, type Runner } from '../gru/stack.js';
import { itemWork, KernelSource, type KernelKind } from './item.js';
import { closeWorkers, prewarm, runOnWorkers } from './pool.js';
import type { WorkerPiece } from './worker.js';
import { wasmModule } from './wasm.js';

export interface FastOptions extends RunControl {
  /** Threads; default chooseThreads(). 1 runs in-process with no workers. */
  threads?: number | undefined;
  /** 'auto' (default): wasm SIMD when it applies and is available; 'js' forces the JS kernel. */
  kernel?: 'auto' | 'js' | undefined;
}

/**
 * Below this many flops the default stays on one thread: a piece handed to a worker must pay for
 * its own weight packing and a message round trip per layer, and a cold worker's first compile.
 * Measured with `npm run bench` (cold CLI runs): see the README's Speed section.
 */
export const MIN_PARALLEL_FLOPS = 2e8;

/** Flops of in-process work between two looks at the clock (~0.1 ms): makes pacing nearly free. */
const IN_PROCESS_GRAIN = 2e6;

/** Which kernel a run with these inputs would use, for reports and tests. */
export function fastKernelFor(run: GruRunInput, options: GruRunOptions & FastOptions): KernelKind {
  const { params } = run;
  const allF32 =
    run.input instanceof Float32Array &&
    params.layers.every((l) => l.every((p) => [p.weightIh, p.weightHh, p.biasIh, p.biasHh].every((a) => a === undefined || a instanceof Float32Array)));
  return options.kernel !== 'js' && options.precision === 'f32' && allF32 && wasmModule() ? 'wasm' : 'js';
}

/** How many pieces a layer of this run can be cut into: directions, then batch ranges. */
function maxPieces(run: GruRunInput): number {
  return (run.params.bidirectional ? 2 : 1) * run.batchSize;
}

/**
 * The thread policy: an explicit count is honoured (capped by the pieces a layer has); by default
 * all cores for runs of at least MIN_PARALLEL_FLOPS, else one.
 */
export function chooseThreads(run: GruRunInput, requested?: number): number {
  const cap = maxPieces(run);
  if (requested !== undefined) return Math.max(1, Math.min(cap, Math.floor(requested)));
  return gruFlops(run) >= MIN_PARALLEL_FLOPS ? Math.max(1, Math.min(cap, availableParallelism())) : 1;
}

/** Starts the workers a run of this size would use, ahead of it (see pool.ts). */
export function prewarmFastEngine(threads = availableParallelism()): void {
  if (threads > 1) prewarm(threads - 1, wasmModule());
}

/**
 * Kernel sources for in-process runs. A run holds one while it computes; since runs yield to the
 * event loop, two can overlap, and each needs its own wasm instance (its memory is the scratch).
 */
const idleSources: KernelSource[] = [];

function* inProcess(job: DirectionJob, b0: number, b1: number, kind: KernelKind): Generator<number, void, void> {
  const source = idleSources.pop() ?? new KernelSource(wasmModule());
  try {
    yield* itemWork(job, b0, b1, kind, source, IN_PROCESS_GRAIN);
  } finally {
    idleSources.push(source);
  }
}

export interface FastRunner extends Runner {
  readonly threads: number;
  readonly kind: KernelKind;
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
  const refuse = (_math: unknown, precision: Precision): void => {
    if (precision !== 'f32' && precision !== 'f64') throw new Error(`fast engine: unknown precision ${String(precision)}`);
  };
  if (threads === 1) {
    return {
      name: 'fast',
      threads,
      kind,
      floatType,
      refuse,
      *runLayer(job) {
        for (const d of job.directions) yield* inProcess(d, 0, d.batchSize, kind);
      },
    };
  }

  // Split: `threads` pieces per layer, directions first, then contiguous batch ranges.
  const D = run.params.bidirectional ? 2 : 1;
  const splits = Math.max(1, Math.min(run.batchSize, Math.floor(threads / D)));
  const module = wasmModule();
  const shared = new Map<GruDirectionParams, GruDirectionParams>();
  let outsideBase = 0;
  let progress: BigInt64Array | undefined;
  const outsideDone = (): number => {
    let n = outsideBase;
    if (progress) for (let i = 0; i < progress.length; i++) n += Number(Atomics.load(progress, i));
    return n;
  };
  return {
    name: 'fast',
    threads: D * splits,
    kind,
    floatType,
    refuse,
    alloc: (n, type) => (type === 'f32' ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float64Array(new SharedArrayBuffer(n * 8))),
    outsideDone,
    *runLayer(job, signal) {
      const pieces: { d: number; b0: number; b1: number }[] = [];
      for (let d = 0; d < job.directions.length; d++) {
        for (let s = 0; s < splits; s++) pieces.push({ d, b0: Math.floor((run.batchSize * s) / splits), b1: Math.floor((run.batchSize * (s + 1)) / splits) });
      }
      const [mine, ...theirs] = pieces;
      const stop = new Int32Array(new SharedArrayBuffer(4));
      const layerProgress = new BigInt64Array(new SharedArrayBuffer(8 * Math.max(1, theirs.length)));
      progress = layerProgress;
      const posted: Omit<WorkerPiece, 'id'>[] = theirs.map((p, slot) => {
        const dj = job.directions[p.d]!;
        return { job: { ...dj, params: sharedParams(dj.params, shared, floatType()) }, b0: p.b0, b1: p.b1, kind, progress: layerProgress, slot, stop };
      });
      let finished = false;
      const remote = posted.length > 0 ? runOnWorkers(posted, module, { signal, cancel: () => Atomics.store(stop, 0, 1) }) : undefined;
      // Settled later if this thread stops first (abort): never an unhandled rejection.
      remote?.catch(() => {});
      try {
        yield* inProcess(job.directions[mine!.d]!, mine!.b0, mine!.b1, kind);
        if (remote) yield remote;
        finished = true;
      } finally {
        if (!finished) Atomics.store(stop, 0, 1);
        outsideBase = outsideDone();
        progress = undefined;
      }
    },
  };
}

/** The stack on the fast engine, on the event loop (paced, progress, AbortSignal). */
export async function runGruFast(run: GruRunInput, options: GruRunOptions & FastOptions): Promise<GruRunResult> {
  return runStack(run, options, fastRunner(run, options), options);
}

export { gruFlops };

/** Ends the worker threads now (they are unref'd and never hold the process open anyway). */
export const closeFastEngine = closeWorkers;
