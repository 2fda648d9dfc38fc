/**
 * The reference runner: one direction of one layer is the cell (cell.ts) scanned over time, with
 * plain loops in double — the code to read when auditing what gru-check computes. The stack
 * driver (stack.ts) owns layers, directions, lengths and h_n; this file owns the time loop.
 *
 * Axis order: job.input (T, B, I); job.output (T, B, D*H), this direction's columns
 * [d*H, (d+1)*H); h0 and hN (B, H). For each step t and each sequence b still running,
 * gi = W_ih x[t, b] + b_ih is computed, then the cell; the forward direction runs t = 0..T-1,
 * the reverse one T-1..0, a sequence only at t < lengths[b] (so the reverse one starts at its
 * own last valid step). Every row-step yields its flops so the driver can pace the event loop.
 */
import type { FloatArray, GruDirectionParams, Precision } from '../model/types.js';
import { cellScratch, gruCell, roundFor } from './cell.js';
import { compileMath } from './math.js';
import type { GateMath } from '../result.js';
import { runGruStackWith, type DirectionJob, type GruRunInput, type GruRunOptions, type GruRunResult, type Runner } from './stack.js';

/** gi = W_ih x + b_ih for one row of x (from xOffset): 3H values into gi. */
export function projectRow(x: FloatArray, xOffset: number, p: GruDirectionParams, H: number, gi: Float64Array): void {
  const I = p.inputSize;
  const w = p.weightIh;
  const b = p.biasIh;
  for (let g = 0; g < 3 * H; g++) {
    let acc = b ? b[g]! : 0;
    const wo = g * I;
    for (let i = 0; i < I; i++) acc += w[wo + i]! * x[xOffset + i]!;
    gi[g] = acc;
  }
}

export function* referenceDirection(job: DirectionJob): Generator<number, void, void> {
  const { seqLen: T, batchSize: B, hiddenSize: H, inputSize: I, lengths, input, output, params, reverse } = job;
  const F = job.numDirections * H;
  const col = job.direction * H;
  const round = roundFor(job.precision);
  const math = compileMath(job.math);
  const scratch = cellScratch(H);
  const gi = new Float64Array(3 * H);
  const next = new Float64Array(H);
  // The state of every sequence, (B, H): starts as h0 rounded to the state's precision.
  const h = Float64Array.from(job.h0, round);
  const rowFlops = 2 * 3 * H * (I + H);
  for (let step = 0; step < T; step++) {
    const t = reverse ? T - 1 - step : step;
    for (let b = 0; b < B; b++) {
      if (lengths && t >= lengths[b]!) continue;
      projectRow(input, (t * B + b) * I, params, H, gi);
      gruCell(gi, 0, h, b * H, next, 0, params.weightHh, params.biasHh, H, math, round, scratch);
      h.set(next, b * H);
      output.set(next, (t * B + b) * F + col);
      yield rowFlops;
    }
  }
  job.hN.set(h);
}

/** The plain loops of this file as a runner: float64 buffers, every GateMath option. */
export const REFERENCE_RUNNER: Runner = {
  name: 'reference',
  floatType: () => 'f64',
  *runLayer(job) {
    for (const d of job.directions) yield* referenceDirection(d);
  },
};

export type { GateMath, GruRunInput, GruRunOptions, Precision };

/** The reference stack, synchronously: the stack driver with the plain loops of this file. */
export function runGruStack(run: GruRunInput, options: GruRunOptions): GruRunResult {
  return runGruStackWith(run, options, REFERENCE_RUNNER);
}
