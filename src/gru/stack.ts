/**
 * The one stack driver, as ATen's apply_layer_stack: layer k reads layer k-1's output
 * ([forward | backward] features); each layer's final states are collected into h_n at index
 * layer*D + direction, as nn.GRU does. Written once; engines differ only in the Runner they plug
 * in, which computes the directions of one layer (the plain reference loops of layer.ts, the fast
 * kernels in-process, or the kernels split across worker threads). diagnose's mistaken runs are
 * runner decorators (`afterEachLayer`) and transforms of the inputs, never copies of this loop.
 *
 * Axis order: input (T, B, I) seq-first; output (T, B, D*H) from the last layer, features
 * [forward | backward]; h0 and hN (L*D, B, H). Dropout between layers is absent: eval mode.
 *
 * lengths (pack_padded_sequence semantics): sequence b only has steps t < lengths[b]. The forward
 * direction runs t = 0 .. len-1; the reverse one starts at its own last valid step, len-1, and
 * runs down to 0; steps past the end are not computed, their output is 0 (the driver zeroes the
 * layer buffer), and hN holds each sequence's last computed state.
 *
 * The driver is a generator (`stackWork`) of the work its runner reports: numbers are flops done
 * on this thread, promises are work elsewhere (workers) to wait for. `runGruStackWith` drains it
 * synchronously (the reference runner never yields a promise); `runStack` drains it on the event
 * loop, pacing in-process work (control.ts) so timers, SIGINT and progress keep running, and
 * stopping on an AbortSignal.
 */
import { GruCheckError } from '../errors.js';
import type { FloatArray, GruDirectionParams, GruParams, StatePrecision } from '../model/types.js';
import { reorderRows, TORCH_ORDER } from '../model/gates.js';
import { Pacer, REPORT_MS, throwIfAborted, type RunControl } from './control.js';
import { mathFor, type GateMath } from '../model/math.js';

export interface GruRunInput {
  params: GruParams;
  /** (T, B, I) */
  input: FloatArray;
  seqLen: number;
  batchSize: number;
  /** (L*D, B, H) */
  h0: FloatArray;
  lengths?: Int32Array | undefined;
}

export interface GruRunOptions {
  /**
   * f32: the state is rounded to float32 after every step, like a float32 model; f64: never;
   * f16 (diagnose's emulated float16 ports, reference runner only): to float16.
   */
  precision: StatePrecision;
  /** One GateMath for every direction, or one per direction (ONNX's per-direction activations). */
  math?: GateMath | readonly GateMath[] | undefined;
}

export interface GruRunResult {
  /**
   * (T, B, D*H) seq-first, in the runner's element type: float32 from a float32 kernel (the fast
   * engine at f32 precision, whose values are float32 anyway), float64 otherwise.
   */
  output: FloatArray;
  /** (L*D, B, H) */
  hN: Float64Array;
}

/** One direction of one layer, as the driver hands it to a runner. */
export interface DirectionJob {
  layer: number;
  /** 0 forward, 1 backward: which half of the output features and of h0/hN it owns. */
  direction: number;
  /** Runs backwards in time: the backward direction, or ONNX's single direction="reverse". */
  reverse: boolean;
  seqLen: number;
  batchSize: number;
  /** Columns of this layer's input (input_size for layer 0, D*H after). */
  inputSize: number;
  hiddenSize: number;
  numDirections: number;
  /** (T, B, inputSize) */
  input: FloatArray;
  /** (T, B, D*H), written at columns [direction*H, (direction+1)*H); zero where t >= length. */
  output: FloatArray;
  /** (B, H) for this layer and direction. */
  h0: Float64Array;
  /** (B, H) for this layer and direction, written. */
  hN: Float64Array;
  lengths: Int32Array | undefined;
  /** Weights with the gate blocks in r|z|n order (GateMath.gateOrder already applied). */
  params: GruDirectionParams;
  math: GateMath;
  precision: StatePrecision;
}

export interface LayerJob {
  layer: number;
  numLayers: number;
  directions: DirectionJob[];
}

/** Flops done on this thread, or work elsewhere to wait for. */
export type Work = number | Promise<void>;

export interface Runner {
  readonly name: string;
  /** Element type of the layer buffers: float32 kernels read and write Float32Array. */
  floatType(run: GruRunInput, options: GruRunOptions): 'f32' | 'f64';
  /**
   * Throws GruCheckError('UNSUPPORTED_MATH') naming an option it cannot compute. Called for every
   * direction before any work starts: a runner never falls back to other math silently.
   */
  refuse?(math: GateMath, precision: StatePrecision): void;
  /** Allocates a buffer every thread of the runner can reach (shared memory for workers). */
  alloc?(n: number, type: 'f32' | 'f64'): FloatArray;
  /** Computes every direction of one layer. */
  runLayer(job: LayerJob, signal: AbortSignal | undefined): Iterable<Work>;
  /** Flops done so far in this run by threads other than this one, for progress. */
  outsideDone?(): number;
  /** Called once when the run ends, whether it succeeded or not. */
  end?(): void;
}

/** Flops of one run as the progress and the bench count them: 2·B·T·3H·(I_k + H) per layer and direction. */
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

/** Weights as a port that read the blocks in `order` would use them (identity for 'rzn'). */
function inGateOrder(p: GruDirectionParams, order: string, H: number): GruDirectionParams {
  if (order === TORCH_ORDER) return p;
  const re = (m: FloatArray | undefined, cols: number): FloatArray | undefined => (m ? reorderRows(m, H, cols, order) : undefined);
  const q: GruDirectionParams = { ...p, weightIh: re(p.weightIh, p.inputSize)!, weightHh: re(p.weightHh, H)! };
  if (p.biasIh) q.biasIh = re(p.biasIh, 1)!;
  if (p.biasHh) q.biasHh = re(p.biasHh, 1)!;
  return q;
}

function copyAs(src: ArrayLike<number>, dst: FloatArray): FloatArray {
  dst.set(src);
  return dst;
}

export function* stackWork(run: GruRunInput, options: GruRunOptions, runner: Runner, signal?: AbortSignal): Generator<Work, GruRunResult, void> {
  const { params, seqLen: T, batchSize: B } = run;
  const D = params.bidirectional ? 2 : 1;
  const H = params.hiddenSize;
  const L = params.numLayers;
  const F = D * H;
  const maths = Array.from({ length: D }, (_, d) => mathFor(options.math, d));
  for (const m of maths) runner.refuse?.(m, options.precision);

  const type = runner.floatType(run, options);
  const alloc = (n: number, t: 'f32' | 'f64'): FloatArray =>
    runner.alloc ? runner.alloc(n, t) : t === 'f32' ? new Float32Array(n) : new Float64Array(n);
  const sameType = type === 'f32' ? run.input instanceof Float32Array : run.input instanceof Float64Array;
  const input = sameType && !runner.alloc ? run.input : copyAs(run.input, alloc(run.input.length, type));
  const h0 = copyAs(run.h0, alloc(L * D * B * H, 'f64')) as Float64Array;
  const hN = alloc(L * D * B * H, 'f64') as Float64Array;
  const bufs = [alloc(T * B * F, type), L > 1 ? alloc(T * B * F, type) : alloc(0, type)] as const;
  try {
    for (let k = 0; k < L; k++) {
      const out = bufs[k % 2]!;
      // The buffer still holds layer k-2's output: padded steps must read 0 again.
      if (k >= 2 && run.lengths) out.fill(0);
      const directions: DirectionJob[] = maths.map((math, d) => {
        const at = (k * D + d) * B * H;
        return {
          layer: k,
          direction: d,
          reverse: d === 1 || params.reverseOnly === true,
          seqLen: T,
          batchSize: B,
          inputSize: k === 0 ? params.inputSize : F,
          hiddenSize: H,
          numDirections: D,
          input: k === 0 ? input : bufs[(k - 1) % 2]!,
          output: out,
          h0: h0.subarray(at, at + B * H),
          hN: hN.subarray(at, at + B * H),
          lengths: run.lengths,
          params: inGateOrder(params.layers[k]![d]!, math.gateOrder, H),
          math,
          precision: options.precision,
        };
      });
      yield* runner.runLayer({ layer: k, numLayers: L, directions }, signal);
    }
  } finally {
    runner.end?.();
  }
  const last = bufs[(L - 1) % 2]!;
  // The last layer's buffer as it is: widening a float32 one to float64 would copy the whole output
  // into fresh memory inside the GRU's time.
  return { output: last, hN: runner.alloc ? Float64Array.from(hN) : hN };
}

/** Runs the stack on this thread, start to end: for runners that never wait (the reference). */
export function runGruStackWith(run: GruRunInput, options: GruRunOptions, runner: Runner): GruRunResult {
  const it = stackWork(run, options, runner);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
    if (typeof r.value !== 'number') {
      it.return(undefined as never);
      throw new GruCheckError('USAGE', `the ${runner.name} runner needs the event loop: use runStack`);
    }
  }
}

/**
 * Runs the stack on the event loop: in-process work is paced (a turn of the event loop every
 * SLICE_MS, progress every REPORT_MS), work on other threads is awaited with progress polled.
 * Rejects with AbortError when control.signal aborts.
 */
export async function runStack(run: GruRunInput, options: GruRunOptions, runner: Runner, control: RunControl = {}): Promise<GruRunResult> {
  throwIfAborted(control.signal);
  const pacer = new Pacer(gruFlops(run), control);
  const it = stackWork(run, options, runner, control.signal);
  const outside = (): number => runner.outsideDone?.() ?? 0;
  let done = 0;
  try {
    for (;;) {
      const r = it.next();
      if (r.done) {
        pacer.finish();
        return r.value;
      }
      const w = r.value;
      if (typeof w === 'number') {
        done += w;
        if (pacer.due()) await pacer.pause(done + outside());
        continue;
      }
      const ticker = control.onProgress ? setInterval(() => pacer.report(done + outside()), REPORT_MS) : undefined;
      try {
        await w;
      } finally {
        clearInterval(ticker);
      }
      throwIfAborted(control.signal);
    }
  } catch (e) {
    it.return(undefined as never);
    throw e;
  }
}

/**
 * A runner that changes what each layer is given before the inner runner computes it (`before`,
 * e.g. other lengths for one direction) and each layer's results after, before the next layer
 * reads them (`after`): how diagnose re-enacts structural mistakes (directions concatenated the
 * wrong way round, backward outputs left in processing order, a backward pass started one step
 * off, ...) on whatever engine `run` uses.
 */
export function eachLayer(inner: Runner, change: { before?: (job: LayerJob) => LayerJob; after?: (job: LayerJob) => void }): Runner {
  return {
    name: inner.name,
    floatType: (run, options) => inner.floatType(run, options),
    ...(inner.refuse ? { refuse: (m: GateMath, p: StatePrecision) => inner.refuse!(m, p) } : {}),
    ...(inner.alloc ? { alloc: (n: number, t: 'f32' | 'f64') => inner.alloc!(n, t) } : {}),
    ...(inner.outsideDone ? { outsideDone: () => inner.outsideDone!() } : {}),
    ...(inner.end ? { end: () => inner.end!() } : {}),
    *runLayer(job, signal) {
      const j = change.before ? change.before(job) : job;
      yield* inner.runLayer(j, signal);
      change.after?.(j);
    },
  };
}

/** eachLayer with only `after`. */
export function afterEachLayer(inner: Runner, after: (job: LayerJob) => void): Runner {
  return eachLayer(inner, { after });
}
