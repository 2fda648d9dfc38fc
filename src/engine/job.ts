/**
 * One run of the whole stack, described as plain data that can be posted to a worker: shapes,
 * options and the buffers the layers read and write. `layerItemWork` runs one (layer, direction,
 * batch range) of it; the in-process path and the workers both go through it, so threads only
 * change who runs an item, never what it computes.
 *
 * Axis order: input (T, B, I) seq-first; bufs[k % 2] holds layer k's output (T, B, D*H), features
 * [forward | backward]; h0 and hN are (L*D, B, H) with index layer*D + direction, as nn.GRU.
 * Layer k reads layer k-1's buffer and writes the other one (ping-pong), so two layer-sized buffers
 * serve any depth.
 */
import type { FloatArray, GruDirectionParams, Precision } from '../model/types.js';
import { chunkSteps, directionWork } from './direction.js';
import { JsKernel, WasmKernel, type Kernel } from './kernel.js';

export type KernelKind = 'wasm' | 'js';

export interface StackJob {
  kind: KernelKind;
  seqLen: number;
  batchSize: number;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  numDirections: number;
  precision: Precision;
  linearBeforeReset: boolean;
  /** The single direction runs backwards (ONNX direction="reverse"). */
  reverseOnly: boolean;
  lengths: Int32Array | undefined;
  /** (T, B, I): Float32Array for the wasm kernel, Float64Array for the JS one. */
  input: FloatArray;
  /** Two (T, B, D*H) buffers, same element type as input. */
  bufs: [FloatArray, FloatArray];
  /** (L*D, B, H) */
  h0: Float64Array;
  /** (L*D, B, H), written. */
  hN: Float64Array;
}

/** Makes kernels; a wasm instance is reused across items since setup() resets its memory. */
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
 * Runs one (layer, direction, batch range) item. A generator of flops done, yielding about every
 * `grain` flops (see direction.ts): the kernel is set up by the call, the time loop runs as the
 * generator is drained.
 */
export function layerItemWork(
  job: StackJob,
  layer: number,
  direction: number,
  b0: number,
  b1: number,
  params: GruDirectionParams,
  kernels: KernelSource,
  grain: number,
): Generator<number, void, void> {
  const { seqLen: T, batchSize: B, hiddenSize: H, numDirections: D } = job;
  const inputSize = layer === 0 ? job.inputSize : D * H;
  const slice = (layer * D + direction) * B * H;
  const Bw = b1 - b0;
  const kernel: Kernel = kernels.get(job.kind).setup(
    { inputSize, hiddenSize: H, batch: Bw, chunkRows: chunkSteps(T, Bw) * Bw, precision: job.precision },
    params,
  );
  return directionWork(
    {
      seqLen: T,
      batchSize: B,
      inputSize,
      hiddenSize: H,
      b0,
      b1,
      direction,
      reverse: direction === 1 || job.reverseOnly,
      numDirections: D,
      lengths: job.lengths,
      precision: job.precision,
      linearBeforeReset: job.linearBeforeReset,
      input: layer === 0 ? job.input : job.bufs[(layer - 1) % 2]!,
      output: job.bufs[layer % 2]!,
      h0: job.h0.subarray(slice, slice + B * H),
      hN: job.hN.subarray(slice, slice + B * H),
      params,
    },
    kernel,
    grain,
  );
}
