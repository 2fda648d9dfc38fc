/**
 * Padded steps as other runtimes fill them. PyTorch (pack_padded_sequence / pad_packed_sequence)
 * and ONNX (sequence_lens) leave output[t, b] = 0 for t >= lengths[b]; the valid steps and the
 * final states are the GRU's either way. Two conventions met on real ports differ only there:
 *
 *   carried   Keras masking (zero_output_for_mask=False): a masked step repeats the previous
 *             output. The forward direction carries its output at t = len-1 into t >= len; a
 *             reverse direction meets the padding before any valid step, so it carries its
 *             initial output: zero on TensorFlow, the direction's initial state on JAX (Keras
 *             3.15, measured on a hand-built go_backwards stack; Bidirectional zeroes padded
 *             steps itself and matches PyTorch).
 *   computed  Flax's nn.RNN(seq_lengths=...) (flax 0.12, measured on real ports): the recurrence
 *             goes on over the padding from each direction's final state, and the final state
 *             returned is still the one at the sequence's end. The forward direction continues
 *             t = len .. T-1; the reverse one, after reaching t = 0, continues from t = T-1 down
 *             to len (it flips only the valid part); each output lands at its own step, and the
 *             next layer's padded input is this layer's padded output.
 *
 * Each is a runner decorator (stack.ts eachLayer): it rewrites a layer's padded steps after the
 * layer ran and before the next layer reads them, so the stack driver stays the only stack.
 * Axis order as the driver's: input (T, B, I), output (T, B, D*H), hN (B, H) per direction.
 */
import { afterEachLayer, type DirectionJob, type LayerJob, type Runner } from './stack.js';
import { cellScratch, gruCell, roundFor } from './cell.js';
import { compileMath } from './math.js';
import { projectRow } from './layer.js';

export type PaddedFill = 'carried' | 'carried-h0' | 'computed';

function carry(d: DirectionJob, reverseHoldsH0: boolean): void {
  const { seqLen: T, batchSize: B, hiddenSize: H, output, lengths } = d;
  if (!lengths) return;
  const F = d.numDirections * H;
  const col = d.direction * H;
  if (d.reverse) {
    // Zero (as written) on TensorFlow; Keras on JAX starts the carried output at the initial state.
    if (reverseHoldsH0) for (let b = 0; b < B; b++) for (let t = lengths[b]!; t < T; t++) output.set(d.h0.subarray(b * H, (b + 1) * H), (t * B + b) * F + col);
    return;
  }
  for (let b = 0; b < B; b++) {
    const len = lengths[b]!;
    if (len <= 0) continue;
    const last = ((len - 1) * B + b) * F + col;
    for (let t = len; t < T; t++) output.copyWithin((t * B + b) * F + col, last, last + H);
  }
}

function computePast(d: DirectionJob): void {
  const { seqLen: T, batchSize: B, hiddenSize: H, input, output, lengths, params } = d;
  if (!lengths) return;
  const F = d.numDirections * H;
  const col = d.direction * H;
  const math = compileMath(d.math);
  const round = roundFor(d.precision);
  const scratch = cellScratch(H);
  const gi = new Float64Array(3 * H);
  const h = new Float64Array(H);
  const next = new Float64Array(H);
  for (let b = 0; b < B; b++) {
    const len = lengths[b]!;
    h.set(d.hN.subarray(b * H, (b + 1) * H));
    for (let s = 0; s < T - len; s++) {
      const t = d.reverse ? T - 1 - s : len + s;
      projectRow(input, (t * B + b) * d.inputSize, params, H, gi);
      gruCell(gi, 0, h, 0, next, 0, params.weightHh, params.biasHh, H, math, round, scratch);
      h.set(next);
      output.set(next, (t * B + b) * F + col);
    }
  }
}

/** The runner with every layer's padded steps filled as `fill` says. */
export function fillPaddedSteps(fill: PaddedFill): (r: Runner) => Runner {
  const each = fill === 'computed' ? computePast : (d: DirectionJob) => carry(d, fill === 'carried-h0');
  return (r) => afterEachLayer(r, (job: LayerJob) => job.directions.forEach(each));
}
