/**
 * Padded steps as other runtimes fill them. PyTorch (pack_padded_sequence / pad_packed_sequence)
 * and ONNX (sequence_lens) leave output[t, b] = 0 for t >= lengths[b]; the valid steps and the
 * final states are the GRU's either way. Two conventions met on real ports differ only there:
 *
 *   carried   Keras masking (zero_output_for_mask=False): a masked step repeats the previous
 *             output. The forward direction carries its output at t = len-1 into t >= len; a
 *             reverse direction meets the padding before any valid step, so it carries its
 *             initial output, zero.
 *   computed  Flax's nn.RNN(seq_lengths=...): the cell keeps running past each end with the carry
 *             frozen, so output[t] = cell(h_final, x[t]) for t >= len, in both directions (the
 *             reverse one flips only the valid part and runs the padding after it); the next
 *             layer's padded input is this layer's padded output.
 *
 * Each is a runner decorator (stack.ts eachLayer): it rewrites a layer's padded steps after the
 * layer ran and before the next layer reads them, so the stack driver stays the only stack.
 * Axis order as the driver's: input (T, B, I), output (T, B, D*H), hN (B, H) per direction.
 */
import { afterEachLayer, type DirectionJob, type LayerJob, type Runner } from './stack.js';
import { cellScratch, gruCell, roundFor } from './cell.js';
import { compileMath } from './math.js';
import { projectRow } from './layer.js';

export type PaddedFill = 'carried' | 'computed';

function carry(d: DirectionJob): void {
  const { seqLen: T, batchSize: B, hiddenSize: H, output, lengths } = d;
  if (!lengths || d.reverse) return; // a reverse direction carries its initial output: zero, as written
  const F = d.numDirections * H;
  const col = d.direction * H;
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
  const next = new Float64Array(H);
  for (let b = 0; b < B; b++) {
    for (let t = lengths[b]!; t < T; t++) {
      projectRow(input, (t * B + b) * d.inputSize, params, H, gi);
      gruCell(gi, 0, d.hN, b * H, next, 0, params.weightHh, params.biasHh, H, math, round, scratch);
      output.set(next, (t * B + b) * F + col);
    }
  }
}

/** The runner with every layer's padded steps filled as `fill` says. */
export function fillPaddedSteps(fill: PaddedFill): (r: Runner) => Runner {
  const each = fill === 'carried' ? carry : computePast;
  return (r) => afterEachLayer(r, (job: LayerJob) => job.directions.forEach(each));
}
