/** Axes: batch and time read the wrong way round (only visible when they have the same size). */
import type { GruCase } from '../../model/types.js';
import { swapFirstAxes } from '../../model/arrays.js';
import { variantList } from './common.js';
import type { Variant } from './variant.js';

/** Batch and time swapped, when the batch has as many sequences as steps. */
export function axes(c: GruCase): Variant[] {
  const { out, add } = variantList();
  add({
    name: 'batch-time-swapped',
    family: 'axes',
    mixesSequences: true,
    fix: 'swap the batch and time axes of input and output (a batch_first mismatch: check the layout the port assumes)',
    plan: (c) => ({
      input: (run) => ({ ...run, input: swapFirstAxes(run.input, run.seqLen, run.batchSize, run.params.inputSize), seqLen: run.batchSize, batchSize: run.seqLen, lengths: undefined }),
      finish: (r, run) => ({ ...r, output: swapFirstAxes(r.output, run.seqLen, run.batchSize, r.output.length / (run.seqLen * run.batchSize)) }),
    }),
  }, c.config.batched && !c.config.cell && c.seqLen === c.batchSize);
  // Precision: emulated, judged statistically when the emulation cannot match exactly.
  return out;
}
