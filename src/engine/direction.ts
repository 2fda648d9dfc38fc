/**
 * The fast engine's time loop: one direction of one layer (a DirectionJob of the stack driver,
 * src/gru/stack.ts) for a contiguous range [b0, b1) of the batch, the same step order and lengths
 * handling as the reference's src/gru/layer.ts, with the matrix products and the gate equations
 * delegated to a Kernel (kernel.ts).
 *
 * Axis order: the layer input is (T, B, I) seq-first; the layer output buffer is (T, B, D*H) with
 * this direction's features at columns [d*H, (d+1)*H) (forward first, as nn.GRU); h0 and hN are the
 * (B, H) slices of (L*D, B, H) for this layer and direction. Rows outside [b0, b1) are not touched,
 * which is what lets workers share these buffers.
 *
 * Time is processed in chunks: the input projection of a chunk's rows is one matrix product, then
 * the chunk's steps run. Chunks bound the memory for gi and keep the rows being projected in cache.
 *
 * The loop is a generator so that its caller can stop between pieces of work without the loop
 * knowing why: the in-process engine yields to the event loop there (timers, SIGINT, progress),
 * workers publish progress and look for a cancel flag. It yields the flops done since its last
 * yield, at a step boundary or between slices of a projection, once at least `grain` flops
 * accumulated, and a last time at the end. The yields never change what is computed.
 */
import type { DirectionJob } from '../gru/stack.js';
import type { Kernel } from './kernel.js';

/** Rows (time steps x batch) projected per chunk: enough to amortise a pass over W_ih. */
export const CHUNK_ROWS = 256;

export function chunkSteps(seqLen: number, batch: number): number {
  return Math.max(1, Math.min(seqLen, Math.ceil(CHUNK_ROWS / batch)));
}

/**
 * A chunk's projection is cut into equal row slices of about this many flops (at least 16 rows), so
 * that one piece of work between yields stays short even for very wide layers (~5 ms in wasm).
 */
export const PROJECT_SLICE_FLOPS = 1e8;

/**
 * Runs the task, yielding flops done (see the top of this file); the yields sum to
 * 2·T·Bw·3H·(I + H), the task's share of gruFlops. `kernel` must already be set up for its shape
 * and params.
 */
export function* directionWork(task: DirectionJob, b0: number, b1: number, k: Kernel, grain: number): Generator<number, void, void> {
  const { seqLen: T, batchSize: B, inputSize: I, hiddenSize: H, input, h0, hN } = task;
  const reverse = task.reverse;
  const f32 = task.precision === 'f32';
  const Bw = b1 - b0;
  const { x, h } = k;

  // The reference rounds h0 to the state's precision before the first step.
  for (let bl = 0; bl < Bw; bl++) {
    for (let j = 0; j < H; j++) {
      const v = h0[(b0 + bl) * H + j]!;
      h[bl * H + j] = f32 ? Math.fround(v) : v;
    }
  }

  const Tc = chunkSteps(T, Bw);
  const rowFlops = 2 * I * 3 * H;
  const stepFlops = 2 * Bw * H * 3 * H;
  let pending = 0;
  for (let c0 = 0; c0 < T; c0 += Tc) {
    // Steps [ta, tb) in time order; the reverse direction takes chunks from the end.
    const n = Math.min(Tc, T - c0);
    const ta = reverse ? T - c0 - n : c0;
    for (let t = ta; t < ta + n; t++) {
      x.set(input.subarray((t * B + b0) * I, (t * B + b1) * I), (t - ta) * Bw * I);
    }
    const rows = n * Bw;
    const slices = Math.max(1, Math.min(Math.floor(rows / 16), Math.round((rows * rowFlops) / PROJECT_SLICE_FLOPS)));
    const sliceRows = Math.ceil(rows / slices / 4) * 4;
    for (let r0 = 0; r0 < rows; r0 += sliceRows) {
      const r1 = Math.min(rows, r0 + sliceRows);
      k.project(r0, r1);
      pending += (r1 - r0) * rowFlops;
      if (pending >= grain) {
        yield pending;
        pending = 0;
      }
    }

    for (let s = 0; s < n; s++) {
      const t = reverse ? ta + n - 1 - s : ta + s;
      step(task, b0, b1, k, t, (t - ta) * Bw);
      pending += stepFlops;
      if (pending >= grain) {
        yield pending;
        pending = 0;
      }
    }
  }
  for (let bl = 0; bl < Bw; bl++) {
    for (let j = 0; j < H; j++) hN[(b0 + bl) * H + j] = h[bl * H + j]!;
  }
  if (pending > 0) yield pending;
}

/**
 * Time step t for every row; gi rows for the step start at giRow0. A plain function rather than
 * part of the generator: V8 optimizes it like any hot function, where code resumed inside a
 * generator runs a few percent slower.
 */
function step(task: DirectionJob, b0: number, b1: number, k: Kernel, t: number, giRow0: number): void {
  const { batchSize: B, hiddenSize: H, lengths, output } = task;
  const lbr = task.math.linearBeforeReset;
  const Bw = b1 - b0;
  const F = task.numDirections * H;
  const col = task.direction * H;
  const h = k.h;
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
    // Past the end of this sequence: no step; its output stays 0 (the driver zeroed the buffer).
    if (lengths && t >= lengths[b]!) continue;
    if (lbr) k.gatesLbr(bl, giRow0 + bl);
    else k.gatesZn(bl, giRow0 + bl);
    output.set(h.subarray(bl * H, (bl + 1) * H), out);
  }
}
