/**
 * What diagnose holds every run to: the tensors under test — a candidate's (aligned to the case's
 * layout), else the dump's expected ones — and the reference's, read the way the check reads them.
 * A candidate holding only the last layer's final states is held to those rows; with
 * --padded-steps ignore every output, the port's and each variant's, is held to its valid steps.
 */
import type { FloatArray, GruCase, Tensor } from '../model/types.js';
import type { AlignedCandidate } from '../candidate/align.js';
import { type CheckOptions } from '../check.js';
import { lastLayerRows, type UserTensor } from '../model/layout.js';
import { hasPaddedSteps, zeroPadded } from '../compare/padded.js';

export type T2 = { shape: number[]; data: ArrayLike<number> };
export type Tested = { output?: T2 | undefined; h_n?: T2 | undefined };

/** How a run's tensors are read before they are compared. */
export interface Reading {
  /** --padded-steps ignore on a case with padded steps: outputs are zeroed past each length. */
  ignorePadded: boolean;
  /** The tested h_n holds the last layer's rows only. */
  hnLastLayer: boolean;
}

export interface Subject {
  /** The tensors under test. */
  tested: Tested;
  /** The reference's, read as the tested ones are. */
  reference: Tested & { output: T2; h_n: T2 };
  reading: Reading;
  /** The dtype each tested tensor was stored in. */
  dtype: Record<'output' | 'h_n', Tensor['dtype']>;
}

/** An output held to its valid steps when padded steps are ignored. */
export function validOnly<T extends T2>(r: Reading, on: GruCase, t: T): T {
  return r.ignorePadded && hasPaddedSteps(on) ? { ...t, data: zeroPadded(on, t.data) } : t;
}

/** A candidate's last-layer final states are held to the last layer's rows. */
export function hnOf(r: Reading, on: GruCase, t: { shape: number[]; data: FloatArray }): { shape: number[]; data: FloatArray } {
  return r.hnLastLayer ? lastLayerRows(on, t) : t;
}

export function subjectOf(c: GruCase, refUser: { output: UserTensor; h_n: UserTensor }, aligned: AlignedCandidate | undefined, options: CheckOptions): Subject {
  const reading: Reading = {
    ignorePadded: options.paddedSteps === 'ignore' && aligned?.output !== undefined && hasPaddedSteps(c),
    hnLastLayer: !!aligned?.hnLastLayer,
  };
  // Keras's return_sequences=False output beside h_n holds the same final states: h_n speaks for both.
  const tested: Tested = aligned ? { output: aligned.output && !aligned.outputFinal ? validOnly(reading, c, aligned.output) : undefined, h_n: aligned.h_n } : c.expected;
  const dtypeOf = (t: 'output' | 'h_n'): Tensor['dtype'] => (aligned ? (t === 'output' ? aligned.output?.dtype : aligned.h_n?.dtype) : c.expected[t]?.dtype) ?? c.config.dtype;
  return {
    tested,
    reference: { output: refUser.output, h_n: hnOf(reading, c, refUser.h_n) },
    reading,
    dtype: { output: dtypeOf('output'), h_n: dtypeOf('h_n') },
  };
}
