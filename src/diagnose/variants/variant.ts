/**
 * What a variant is: a known porting mistake, said as how a port with that mistake would have run
 * the case — changes to what the stack driver is given (weights, gate math, h0, inputs, the
 * state's precision), a runner decorator, or a change of the final tensors — plus what it can
 * touch and which family of alternatives it belongs to.
 */
import type { FloatArray, GruCase, GruParams, StatePrecision } from '../../model/types.js';
import type { GruRunInput, GruRunResult, Runner } from '../../gru/stack.js';
import type { GateMath } from '../../result.js';

/** How the mistaken port runs the case. Unset fields are the case's own. */
export interface VariantPlan {
  params?: GruParams;
  /** Applied to the gate math of every direction. */
  math?: Partial<GateMath>;
  h0?: FloatArray;
  decorate?: (r: Runner) => Runner;
  /** Changes the run's inputs (e.g. axes read the wrong way round). */
  input?: (run: GruRunInput) => GruRunInput;
  /** Changes the final tensors, seq-first (T, B, D*H) and (L*D, B, H). */
  finish?: (r: GruRunResult, run: GruRunInput) => GruRunResult;
  /** The state's precision in the mistaken port (default: the case's). */
  precision?: StatePrecision;
}

export interface Variant {
  name: string;
  fix: string;
  /** Mistakes of one family are alternatives, never paired with each other. */
  family: string;
  plan: (c: GruCase) => VariantPlan;
  /** The mistake mixes sequences (batch elements): it cannot be tried on a few of them alone. */
  mixesSequences?: boolean;
  /** What the mistake can change (default: anything). */
  touches?: {
    /** Only h_n (the output is left as it was). */
    hnOnly?: boolean;
    /** Only the backward (reverse) direction. */
    backwardOnly?: boolean;
    /** Only sequences shorter than T. */
    shortSequencesOnly?: boolean;
    /** The first layer whose final states (h_n rows) it changes (default 0). */
    fromLayer?: number;
  };
  /**
   * 'statistical': an emulation that cannot be exact (precision): it matches when within
   * tolerance, else it is judged on the error's size and spread and reported as `likely`.
   */
  judge?: 'statistical';
}
