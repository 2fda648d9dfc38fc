/**
 * One piece of fast-engine work: a direction of a layer over a contiguous batch range [b0, b1),
 * run by a kernel. The in-process runner and the workers both go through `itemWork`, so threads
 * only change who runs a piece, never what it computes.
 */
import type { PieceTimes } from '../result.js';
import type { DirectionJob } from '../gru/stack.js';
import { chunkSteps, directionWork } from './direction.js';
import { JsKernel, WasmKernel, type Kernel } from './kernel.js';

export type KernelKind = 'wasm' | 'js';

/** Makes kernels; a wasm instance is reused across pieces since setup() resets its memory. */
export class KernelSource {
  private wasm: WasmKernel | undefined;
  constructor(private readonly module: WebAssembly.Module | undefined) {}

  get(kind: KernelKind): WasmKernel | JsKernel {
    if (kind === 'js') return new JsKernel();
    if (!this.module) throw new Error('wasm kernel requested but no module was loaded');
    this.wasm ??= new WasmKernel(this.module);
    return this.wasm;
  }
}

/**
 * Runs rows [b0, b1) of one direction: sets the kernel up for the job's shape, weights and math,
 * then returns the time loop as a generator of flops done, yielding about every `grain` flops.
 */
export function itemWork(job: DirectionJob, b0: number, b1: number, kind: KernelKind, kernels: KernelSource, grain: number): Generator<number, void, void> {
  const Bw = b1 - b0;
  // The fast engine's refuse() stops a float16 state before any work; this keeps the types honest.
  if (job.precision === 'f16') throw new Error('fast engine: float16 state is computed by the reference runner only');
  const kernel: Kernel = kernels.get(kind).setup(
    { inputSize: job.inputSize, hiddenSize: job.hiddenSize, batch: Bw, chunkRows: chunkSteps(job.seqLen, Bw) * Bw, precision: job.precision, math: job.math },
    job.params,
  );
  return directionWork(job, b0, b1, kernel, grain);
}
