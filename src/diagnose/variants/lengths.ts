/**
 * Sequence lengths and padded steps: the lengths ignored, the backward direction started at the
 * wrong step, and what a port leaves at the padded steps (t >= length) where PyTorch writes zeros.
 * Only in a case with a sequence shorter than T.
 */
import type { GruCase } from '../../model/types.js';
import { eachLayer, type LayerJob, type Runner } from '../../gru/stack.js';
import { fillPaddedSteps } from '../../gru/padded.js';
import { hasReverse, reverseDirections, variantList } from './common.js';
import { hasPaddedSteps } from '../../compare/padded.js';
import type { Variant } from './variant.js';

/**
 * The backward direction started elsewhere than at each sequence's last valid step: it runs from
 * t = start(len) down to 0 and its output past the sequence's length is masked (the port knows
 * the lengths; only its reversal is wrong). The forward direction is untouched.
 */
function backwardStart(start: (len: number, T: number) => number): (r: Runner) => Runner {
  return (r) => {
    const lengthsOf = new WeakMap<LayerJob, Int32Array>();
    return eachLayer(r, {
      before: (job) => {
        const dirs = job.directions.map((d) => {
          if (!d.reverse || !d.lengths) return d;
          lengthsOf.set(job, d.lengths);
          return { ...d, lengths: Int32Array.from(d.lengths, (len) => Math.max(0, Math.min(d.seqLen, start(len, d.seqLen) + 1))) };
        });
        const j = { ...job, directions: dirs };
        lengthsOf.set(j, lengthsOf.get(job) ?? new Int32Array(0));
        return j;
      },
      after: (job) => {
        const lengths = lengthsOf.get(job);
        for (const d of reverseDirections(job)) {
          if (!lengths || lengths.length === 0) continue;
          const { seqLen: T, batchSize: B, hiddenSize: H, output } = d;
          const F = d.numDirections * H;
          for (let b = 0; b < B; b++) for (let t = lengths[b]!; t < T; t++) output.fill(0, (t * B + b) * F + d.direction * H, (t * B + b) * F + (d.direction + 1) * H);
        }
      },
    });
  };
}

/** The lengths and padded-steps mistakes, when some sequence is shorter than T. */
export function lengths(c: GruCase): Variant[] {
  const { out, add } = variantList();
  if (hasPaddedSteps(c)) {
    add({
      name: 'lengths-ignored',
      family: 'lengths',
      touches: { shortSequencesOnly: true },
      fix: 'honour the sequence lengths: pack the batch (pack_padded_sequence) or stop each sequence at its length; the port runs every sequence over all T steps, padding included',
      plan: (c) => ({ input: (run) => ({ ...run, lengths: undefined }) }),
    });
    if (hasReverse(c)) {
      add({
        name: 'lengths-ignored-backward',
        family: 'lengths',
        touches: { shortSequencesOnly: true, backwardOnly: true },
        fix: 'start the backward direction at each sequence\'s last valid step (t = length-1), not at t = T-1: reverse each sequence within its length, not the padded batch',
        plan: (c) => ({ decorate: backwardStart((_len, T) => T - 1) }),
      });
      add({
        name: 'backward-off-by-one:late',
        family: 'lengths',
        touches: { shortSequencesOnly: true, backwardOnly: true },
        fix: 'start the backward direction at t = length-1: the port starts one step late, at t = length (x[length::-1] where x[length-1::-1] was meant)',
        plan: (c) => ({ decorate: backwardStart((len, T) => Math.min(len, T - 1)) }),
      });
      add({
        name: 'backward-off-by-one:early',
        family: 'lengths',
        touches: { backwardOnly: true },
        fix: 'start the backward direction at t = length-1: the port starts one step early, at t = length-2, and skips the last valid step',
        plan: (c) => ({ decorate: backwardStart((len) => len - 2) }),
      });
    }
    add({
      name: 'padded-steps-carried',
      family: 'padded-steps',
      touches: { shortSequencesOnly: true },
      fix: 'nothing is wrong on the valid steps: past each sequence\'s end the port carries its last valid output forward (Keras masking) where PyTorch writes zeros; check with --padded-steps ignore, or zero those steps in the port (multiply the output by the mask)',
      plan: () => ({ decorate: fillPaddedSteps('carried') }),
    });
    add({
      name: 'padded-steps-carried:h0',
      family: 'padded-steps',
      touches: { shortSequencesOnly: true },
      fix: 'nothing is wrong on the valid steps: past each sequence\'s end the port carries the last valid output forward, and a backward layer its initial state (Keras masking on the JAX backend, go_backwards=True), where PyTorch writes zeros; check with --padded-steps ignore, or zero those steps in the port (multiply the output by the mask)',
      plan: () => ({ decorate: fillPaddedSteps('carried-h0') }),
    }, hasReverse(c));
    add({
      name: 'padded-steps-computed',
      family: 'padded-steps',
      touches: { shortSequencesOnly: true },
      fix: 'nothing is wrong on the valid steps: past each sequence\'s end the port runs the recurrence on over the padding (Flax nn.RNN(seq_lengths=...)), returning the state at the end, where PyTorch writes zeros; check with --padded-steps ignore, or zero those steps in the port',
      plan: () => ({ decorate: fillPaddedSteps('computed') }),
    });
  }
  return out;
}
