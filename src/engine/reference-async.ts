/**
 * The plain reference engine without blocking the main thread: runGruStackAsync returns exactly
 * what runGruStack (src/gru/stack.ts) returns, bit for bit, computed by the same gruLayer
 * (src/gru/layer.ts) over pieces of the (time, batch) plane, with a turn of the event loop every
 * SLICE_MS of work (control.ts) for timers, SIGINT handlers and progress.
 *
 * Why pieces give the same bits: gruLayer computes each batch row independently (its input
 * projection row by row, then the cell per row), and a piece's state hand-over is the value the
 * next step would have read anyway. For a piece of steps [t0, t0+n) and rows [b0, b1):
 *   - its input is x[t0 .. t0+n, b0 .. b1) and its h0 is the state the previous piece left
 *     (gruLayer's rounding of h0 is idempotent: fround(fround(v)) = fround(v));
 *   - lengths become clamp(len - t0, 0, n): local step s runs iff t0 + s < len, as globally;
 *     a row with no step in the piece keeps its state, as it would;
 *   - the forward direction takes time pieces first to last, the reverse direction last to first.
 * A piece is whole time steps over the full batch, or — when one step of the full batch is already
 * more than a piece's work — one step over a range of rows (contiguous in x: no copy). test/
 * engine-progress.test.ts pins the equality on the samples and random shapes with tiny pieces.
 *
 * Axis order as in stack.ts: input (T, B, I) seq-first; output (T, B, D*H), features
 * [forward | backward]; h0 and hN (L*D, B, H), index layer*D + direction.
 */
import type { FloatArray } from '../model/types.js';
import { PYTORCH_MATH, roundFor } from '../gru/cell.js';
import { gruLayer } from '../gru/layer.js';
import type { GruRunInput, GruRunOptions, GruRunResult } from '../gru/stack.js';
import { Pacer, throwIfAborted, type RunControl } from './control.js';
import { gruFlops } from './fast.js';

export interface ReferenceAsyncOptions extends RunControl {
  /**
   * Row-steps (time steps x batch rows) per piece. Default: about PIECE_FLOPS of work. Tests set
   * it small to put piece boundaries everywhere; it never changes the result.
   */
  pieceRows?: number | undefined;
}

/** Work per piece: ~10 ms at the reference's ~1 GFLOP/s, so pauses land close to SLICE_MS. */
export const PIECE_FLOPS = 1e7;

export async function runGruStackAsync(run: GruRunInput, options: GruRunOptions & ReferenceAsyncOptions): Promise<GruRunResult> {
  throwIfAborted(options.signal);
  const { params, seqLen: T, batchSize: B, lengths } = run;
  const math = options.math ?? PYTORCH_MATH;
  const D = params.bidirectional ? 2 : 1;
  const H = params.hiddenSize;
  const L = params.numLayers;
  const F = D * H;
  const pacer = new Pacer(gruFlops(run), options);
  let done = 0;

  const h0 = Float64Array.from(run.h0);
  const hN = new Float64Array(L * D * B * H);
  let x: FloatArray = run.input;
  let output = new Float64Array(0);
  for (let k = 0; k < L; k++) {
    const I = k === 0 ? params.inputSize : F;
    const rowStepFlops = 2 * 3 * H * (I + H);
    const rows = Math.max(1, Math.floor(options.pieceRows ?? PIECE_FLOPS / rowStepFlops));
    // Whole steps over the full batch, or one step over `group` rows.
    const steps = rows >= B ? Math.min(T, Math.floor(rows / B)) : 1;
    const group = Math.min(B, rows);
    const out = new Float64Array(T * B * F);
    for (let d = 0; d < D; d++) {
      const p = params.layers[k]![d]!;
      const reverse = d === 1 || (params.reverseOnly ?? false);
      const at = (k * D + d) * B * H;
      // (B, H): the state between pieces, starting as this layer and direction's h0 rounded as
      // gruLayer rounds it (which matters only when T = 0 and no piece runs).
      const state = Float64Array.from(h0.subarray(at, at + B * H), roundFor(options.precision));
      for (let s0 = 0; s0 < T; s0 += steps) {
        const n = Math.min(steps, T - s0);
        const t0 = reverse ? T - s0 - n : s0;
        for (let b0 = 0; b0 < B; b0 += group) {
          const b1 = Math.min(B, b0 + group);
          const g = b1 - b0;
          // Rows [b0, b1) of steps [t0, t0 + n) are contiguous in x: n > 1 only with the full batch.
          const xs = x.subarray((t0 * B + b0) * I, ((t0 + n - 1) * B + b1) * I);
          const ls = lengths && Int32Array.from(lengths.subarray(b0, b1), (len) => Math.min(n, Math.max(0, len - t0)));
          const r = gruLayer(xs, n, g, p, H, state.subarray(b0 * H, b1 * H), reverse, ls, options.precision, math);
          state.set(r.hN, b0 * H);
          for (let tl = 0; tl < n; tl++) {
            for (let bl = 0; bl < g; bl++) {
              const src = (tl * g + bl) * H;
              out.set(r.output.subarray(src, src + H), ((t0 + tl) * B + b0 + bl) * F + d * H);
            }
          }
          done += n * g * rowStepFlops;
          if (pacer.due()) await pacer.pause(done);
        }
      }
      hN.set(state, at);
    }
    output = out;
    x = out;
  }
  pacer.finish();
  return { output, hN };
}
