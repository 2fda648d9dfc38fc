/**
 * The fast GRU engine: the same function as runGruStack (src/gru/stack.ts) — same inputs, outputs,
 * axis order, lengths (pack_padded_sequence) semantics, bidirectional layout, bias=false, 'f32' /
 * 'f64' precision and both reset placements — computed with blocked matrix products:
 *   - per layer and direction, the input projection of a chunk of steps is one (rows x I)·(I x 3H)
 *     product (direction.ts), and each step's recurrent product is one (Bw x H)·(H x 3H) product
 *     over the whole batch share, register-blocked 4 rows x 8 columns;
 *   - float32 models in f32 precision use the f32x4 wasm SIMD kernel (wasm/gemm.wat), with float32
 *     accumulation inside the products and double for everything after them (gates, biases, state
 *     update); test/engine.test.ts bounds the difference from the reference. Everything else — float64
 *     models, f64 precision, or no wasm SIMD — uses the double-precision JS kernel.
 *   - directions and batch ranges are split across worker threads (pool.ts) sharing their buffers.
 *
 * The main thread stays responsive either way (control.ts): in-process runs turn the event loop
 * every SLICE_MS of work, runs on workers only await them; both report progress in flops and stop
 * on an AbortSignal.
 *
 * Axis order: input (T, B, I) seq-first; output (T, B, D*H) with features [forward | backward];
 * h0 and hN (L*D, B, H) with index layer*D + direction.
 */
import { availableParallelism } from 'node:os';
import type { FloatArray } from '../model/types.js';
import { PYTORCH_MATH } from '../gru/cell.js';
import type { GruRunInput, GruRunOptions, GruRunResult } from '../gru/stack.js';
import { Pacer, throwIfAborted, type RunControl } from './control.js';
import { KernelSource, layerItemWork, type KernelKind, type StackJob } from './job.js';
import { closeWorkers, runOnWorkers } from './pool.js';
import type { WorkerJob } from './worker.js';
import { wasmModule } from './wasm.js';

export interface FastOptions extends RunControl {
  /** Worker threads; default os.availableParallelism(). 1 runs in-process with no workers. */
  threads?: number;
  /** 'auto' (default): wasm SIMD when it applies and is available; 'js' forces the JS kernel. */
  kernel?: 'auto' | 'js';
}

/**
 * Below this many flops a run with the default thread count stays in-process: starting workers
 * costs more than it saves. An explicit `threads` is always honoured.
 */
export const MIN_PARALLEL_FLOPS = 2e8;

/**
 * Kernel sources for in-process runs. A run holds one while it computes; since runs now yield to
 * the event loop, two can overlap, and each needs its own wasm instance (its memory is the scratch).
 */
const idleSources: KernelSource[] = [];

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

export function gruFlops(run: GruRunInput): number {
  const { params, seqLen: T, batchSize: B } = run;
  const D = params.bidirectional ? 2 : 1;
  const H = params.hiddenSize;
  let f = 0;
  for (let k = 0; k < params.numLayers; k++) {
    const I = k === 0 ? params.inputSize : D * H;
    f += D * 2 * B * T * 3 * H * (I + H);
  }
  return f;
}

export async function runGruFast(run: GruRunInput, options: GruRunOptions & FastOptions): Promise<GruRunResult> {
  throwIfAborted(options.signal);
  const { params, seqLen: T, batchSize: B } = run;
  const D = params.bidirectional ? 2 : 1;
  const H = params.hiddenSize;
  const L = params.numLayers;
  const kind = fastKernelFor(run, options);
  const explicit = options.threads !== undefined;
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  // Directions first (they are independent), then the batch is cut into contiguous ranges.
  const splits = Math.max(1, Math.min(B, Math.floor(threads / D)));
  const parallel = threads >= 2 && D * splits >= 2 && (explicit || gruFlops(run) >= MIN_PARALLEL_FLOPS);

  const bytes = kind === 'wasm' ? 4 : 8;
  const alloc = (n: number): FloatArray => {
    const buf = parallel ? new SharedArrayBuffer(n * bytes) : new ArrayBuffer(n * bytes);
    return kind === 'wasm' ? new Float32Array(buf) : new Float64Array(buf);
  };
  const alloc64 = (n: number): Float64Array =>
    parallel ? new Float64Array(new SharedArrayBuffer(n * 8)) : new Float64Array(n);

  const input = alloc(run.input.length);
  input.set(run.input);
  const h0 = alloc64(L * D * B * H);
  h0.set(run.h0);
  const job: StackJob = {
    kind,
    seqLen: T,
    batchSize: B,
    inputSize: params.inputSize,
    hiddenSize: H,
    numLayers: L,
    numDirections: D,
    precision: options.precision,
    linearBeforeReset: (options.math ?? PYTORCH_MATH).linearBeforeReset,
    reverseOnly: params.reverseOnly ?? false,
    lengths: run.lengths ? Int32Array.from(run.lengths) : undefined,
    input,
    bufs: [alloc(T * B * D * H), L > 1 ? alloc(T * B * D * H) : alloc(0)],
    h0,
    hN: alloc64(L * D * B * H),
  };

  const pacer = new Pacer(gruFlops(run), options);
  if (!parallel) {
    const source = idleSources.pop() ?? new KernelSource(wasmModule());
    try {
      let done = 0;
      for (let k = 0; k < L; k++) {
        for (let d = 0; d < D; d++) {
          for (const flops of layerItemWork(job, k, d, 0, B, params.layers[k]![d]!, source, IN_PROCESS_GRAIN)) {
            done += flops;
            if (pacer.due()) await pacer.pause(done);
          }
        }
      }
    } finally {
      idleSources.push(source);
    }
  } else {
    const sync = new Int32Array(new SharedArrayBuffer(4 * (L + 1)));
    const items = D * splits;
    const progress = new BigInt64Array(new SharedArrayBuffer(8 * items));
    const jobs: Omit<WorkerJob, 'id'>[] = [];
    for (let d = 0; d < D; d++) {
      for (let s = 0; s < splits; s++) {
        const b0 = Math.floor((B * s) / splits);
        const b1 = Math.floor((B * (s + 1)) / splits);
        jobs.push({ job, direction: d, b0, b1, layers: params.layers.map((l) => l[d]!), sync, items, progress, slot: jobs.length });
      }
    }
    const cancel = (): void => {
      Atomics.store(sync, L, 2);
      for (let k = 0; k < L; k++) Atomics.notify(sync, k);
    };
    const tick = (): void => {
      let done = 0;
      for (let i = 0; i < items; i++) done += Number(Atomics.load(progress, i));
      pacer.report(done);
    };
    // Always hand workers the wasm module: a worker started by a JS-kernel run may serve a wasm one later.
    await runOnWorkers(jobs, wasmModule(), { signal: options.signal, cancel, tick: options.onProgress && tick });
  }
  pacer.finish();
  return { output: Float64Array.from(job.bufs[(L - 1) % 2]!), hN: Float64Array.from(job.hN) };
}

/** Ends the worker threads now (they are unref'd and never hold the process open anyway). */
export const closeFastEngine = closeWorkers;
