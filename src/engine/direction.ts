/**
 * The fast engine's time loop: one direction of one layer for a contiguous range of the batch, the
 * same step order and lengths handling as src/gru/layer.ts, with the matrix products and the gate
 * equations of src/gru/cell.ts delegated to a Kernel (kernel.ts).
 *
 * Axis order: the layer input is (T, B, I) seq-first; the layer output buffer is (T, B, D*H) with
 * this direction's features at columns [d*H, (d+1)*H) (forward first, as nn.GRU); h0 and hN are the
 * (B, H) slices of (L*D, B, H) for this layer and direction. Rows outside [b0, b1) are not touched,
 * which is what lets workers share these buffers.
 *
 * Time is processed in chunks: the input projection of a chunk's rows is one matrix product, then
 * the chunk's steps run. Chunks bound the memory for gi and keep the rows being projected in cache.
 */
import type { FloatArray, GruDirectionParams, Precision } from '../model/types.js';
import type { Kernel } from './kernel.js';

export interface DirectionTask {
  seqLen: number;
  batchSize: number;
  inputSize: number;
  hiddenSize: number;
  /** Batch range [b0, b1) this task runs. */
  b0: number;
  b1: number;
  /** 0 forward, 1 reverse. */
  direction: number;
  numDirections: number;
  lengths: Int32Array | undefined;
  precision: Precision;
  linearBeforeReset: boolean;
  /** (T, B, I) */
  input: FloatArray;
  /** (T, B, D*H), written at this direction's columns. */
  output: FloatArray;
  /** (B, H) for this layer and direction. */
  h0: FloatArray;
  /** (B, H) for this layer and direction, written. */
  hN: Float64Array;
  params: GruDirectionParams;
}

/** Rows (time steps x batch) projected per chunk: enough to amortise a pass over W_ih. */
export const CHUNK_ROWS = 256;

export function chunkSteps(seqLen: number, batch: number): number {
  return Math.max(1, Math.min(seqLen, Math.ceil(CHUNK_ROWS / batch)));
}

/** Runs the task; `kernel` must already be set up for its shape and params. */
export function runDirection(task: DirectionTask, k: Kernel): void {
  const { seqLen: T, batchSize: B, inputSize: I, hiddenSize: H, b0, b1, lengths, input, output, h0, hN } = task;
  const reverse = task.direction === 1;
  const lbr = task.linearBeforeReset;
  const f32 = task.precision === 'f32';
  const Bw = b1 - b0;
  const F = task.numDirections * H;
  const col = task.direction * H;
  const { x, h } = k;

  // The reference rounds h0 to the state's precision before the first step.
  for (let bl = 0; bl < Bw; bl++) {
    for (let j = 0; j < H; j++) {
      const v = h0[(b0 + bl) * H + j]!;
      h[bl * H + j] = f32 ? Math.fround(v) : v;
    }
  }

  const Tc = chunkSteps(T, Bw);
  for (let c0 = 0; c0 < T; c0 += Tc) {
    // Steps [ta, tb) in time order; the reverse direction takes chunks from the end.
    const n = Math.min(Tc, T - c0);
    const ta = reverse ? T - c0 - n : c0;
    for (let t = ta; t < ta + n; t++) {
      x.set(input.subarray((t * B + b0) * I, (t * B + b1) * I), (t - ta) * Bw * I);
    }
    k.project(n * Bw);

    for (let s = 0; s < n; s++) {
      const t = reverse ? ta + n - 1 - s : ta + s;
      const giRow0 = (t - ta) * Bw;
      // Every row's product is computed even when its sequence has ended: rows stay contiguous for
      // the kernel, and an ended row's state is simply not updated.
      k.recurRz();
      if (lbr) {
        k.recurN(false);
      } else {
        for (let bl = 0; bl < Bw; bl++) k.gatesR(bl, giRow0 + bl);
        k.recurN(true);
      }
      for (let bl = 0; bl < Bw; bl++) {
        const b = b0 + bl;
        const out = (t * B + b) * F + col;
        if (lengths && t >= lengths[b]!) {
          // Past the end of this sequence: no step, output 0 (the buffer may hold an older layer).
          output.fill(0, out, out + H);
          continue;
        }
        if (lbr) k.gatesLbr(bl, giRow0 + bl);
        else k.gatesZn(bl, giRow0 + bl);
        output.set(h.subarray(bl * H, (bl + 1) * H), out);
      }
    }
  }
  for (let bl = 0; bl < Bw; bl++) {
    for (let j = 0; j < H; j++) hN[(b0 + bl) * H + j] = h[bl * H + j]!;
  }
}
