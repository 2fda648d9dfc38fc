/**
 * The screen: a GRU computes each sequence on its own, so every variant is first tried on one or
 * two failing sequences (subset.ts) — and, for a forward-only GRU, on its first steps, past the
 * first failing one — a fraction of a full run where any true mistake shows. Only those that
 * reproduce them (and the closest few) are run on the whole batch, which is what the result
 * reports. A variant that mixes sequences (batch and time swapped), or touches only h_n when the
 * steps are cut (no final states to compare), is always run whole.
 */
import type { GruCase, Tensor } from '../model/types.js';
import type { CheckResult } from '../result.js';
import type { Variant } from './variants.js';
import type { Where } from '../result.js';
import type { Subject, T2, Tested } from './subject.js';
import { subsetCase, subsetTensor, truncateCase, truncateTensor } from './subset.js';
import { batchAxis, timeAxis } from '../model/layout.js';

export interface Screen {
  /** The sequences kept; undefined: all of them. */
  keep: number[] | undefined;
  /** The steps kept; undefined: all of them. */
  steps: number | undefined;
  /** The cut case, the tensors under test and the reference cut the same way; undefined: no screen. */
  case: GruCase | undefined;
  tested: Tested;
  reference: Tested;
  /** Share of a full run one screen costs. */
  share: number;
}

/** The sequences to screen on: where the decisive failure is largest, and the shortest failing one. */
function screeningRows(c: GruCase, failing: CheckResult[], where: Where): number[] | undefined {
  // A GRUCell case is one step: a whole run is as cheap as a screen.
  if (c.batchSize <= 2 || !c.config.batched || c.config.cell) return undefined;
  const rows = new Set<number>();
  const worst = [...failing].sort((a, b) => (b.maxAbsError ?? Infinity) - (a.maxAbsError ?? Infinity))[0];
  const axis = worst ? batchAxis(c, worst.tensor) : undefined;
  rows.add(worst?.maxAbsIndex && axis !== undefined ? worst.maxAbsIndex[axis]! : 0);
  if (c.lengths) {
    const failingSeqs = where.sequences ?? [];
    let shortest = -1;
    for (const b of failingSeqs) if (shortest < 0 || c.lengths[b]! < c.lengths[shortest]!) shortest = b;
    if (shortest >= 0 && c.lengths[shortest]! < c.seqLen) rows.add(shortest);
  }
  return [...rows].sort((a, b) => a - b);
}

/** A tensor of the case cut to the screen's sequences and steps (h_n: none once steps are cut). */
function cut(c: GruCase, keep: number[] | undefined, steps: number | undefined, x: T2 | undefined, t: 'output' | 'h_n'): T2 | undefined {
  if (!x) return x;
  if (steps !== undefined && t === 'h_n') return undefined;
  let y = x;
  const axis = batchAxis(c, t);
  if (keep && axis !== undefined) y = subsetTensor(y as Tensor, axis, keep);
  if (steps !== undefined) y = truncateTensor(y as Tensor, timeAxis(c) ?? 0, steps);
  return y;
}

/** The screen for this failure: which sequences and steps, and the cut case and tensors. */
export function planScreen(c: GruCase, failing: CheckResult[], where: Where, subject: Subject): Screen {
  const keep = screeningRows(c, failing, where);
  const forwardOnly = !c.params.bidirectional && !c.params.reverseOnly;
  const firstBad = where.firstStepByDirection.forward ?? 0;
  const cutTo = forwardOnly && subject.tested.output ? Math.max(Math.ceil(c.seqLen / 8), firstBad + 8) : c.seqLen;
  const steps = cutTo <= c.seqLen / 2 ? cutTo : undefined;
  const screened = keep || steps !== undefined;
  const screenCase = !screened ? undefined : steps !== undefined ? truncateCase(keep ? subsetCase(c, keep) : c, steps) : subsetCase(c, keep!);
  const both = (x: Tested): Tested => ({ output: cut(c, keep, steps, x.output, 'output'), h_n: cut(c, keep, steps, x.h_n, 'h_n') });
  return {
    keep,
    steps,
    case: screenCase,
    tested: both(subject.tested),
    reference: both(subject.reference),
    share: ((keep ? keep.length / c.batchSize : 1) * (steps ?? c.seqLen)) / c.seqLen,
  };
}

/** Runs that cannot be judged on the screen: mixing sequences, or touching only h_n on a cut one. */
export function wholeOnly(screen: Screen, v: Variant): boolean {
  return !screen.case || v.mixesSequences === true || (screen.steps !== undefined && v.touches?.hnOnly === true);
}
