/**
 * Every check a case allows, given the reference's tensors in the dump's own layout: reference vs
 * expected (the dump's own sanity) and, with a candidate, candidate vs reference and candidate vs
 * expected, each held to the tolerance resolved for it (tolerance.ts); a candidate's padded steps
 * (padded.ts) and final states of the last layer only are compared as the options and its layout say.
 */
import type { CheckResult, PaddedSteps, PaddedStepsMode, Tolerance } from '../result.js';
import type { GruCase, Tensor } from '../model/types.js';
import { lastLayerRows, type UserTensor } from '../model/layout.js';
import type { AlignedCandidate } from '../candidate/align.js';
import { checkPair, type PairDetails } from './pair.js';
import { hasPaddedSteps, paddedOutput } from './padded.js';
import { resolveTolerance, sameCriteria, type ToleranceOverrides } from './tolerance.js';

/** How a case's tensors are compared. */
export interface CompareCaseOptions extends ToleranceOverrides {
  equalNan?: boolean | undefined;
  /**
   * A candidate's output at padded steps (t >= lengths[b]): 'strict' (default) compares them with
   * PyTorch's zeros; 'ignore' compares the valid steps only (what Keras masking and Flax's
   * seq_lengths leave there is then not held against the port).
   */
  paddedSteps?: PaddedStepsMode | undefined;
  /**
   * Per-check summaries only some outputs draw: stepMaxAbs (the table's sparkline, the HTML plot)
   * and errorMap (the HTML heatmap). Default: both; the CLI asks only for what it renders.
   */
  stepErrors?: boolean | undefined;
  errorMaps?: boolean | undefined;
  /**
   * The error statistics (medians, quantiles: compareTensors' second look at the data) and the
   * |error| histogram (the table's line for a failing check, the HTML). Default: both.
   */
  statistics?: boolean | undefined;
  histograms?: boolean | undefined;
}

export interface CaseChecks {
  checks: CheckResult[];
  tolerance: Record<string, Tolerance>;
  padded: PaddedSteps | undefined;
}

/**
 * Every check the case allows, given the reference's tensors: reference vs expected (the dump's own
 * sanity) and, with a candidate, candidate vs reference and candidate vs expected.
 */
export function caseChecks(c: GruCase, ref: { output: UserTensor; h_n: UserTensor }, cand: AlignedCandidate | undefined, options: CompareCaseOptions): CaseChecks {
  const equalNan = options.equalNan ?? false;
  const details: PairDetails = { stepErrors: options.stepErrors, errorMaps: options.errorMaps, statistics: options.statistics !== false, histograms: options.histograms };
  const out: CaseChecks = { checks: [], tolerance: {}, padded: undefined };
  const { checks, tolerance } = out;
  const mode = options.paddedSteps ?? 'strict';
  // The candidate's output with its padded steps set to PyTorch's zeros, when they hold anything else.
  let masked: Tensor | undefined;
  let outTol: Tolerance | undefined;
  const sized = cand?.output && hasPaddedSteps(c) && cand.output.shape.length === ref.output.shape.length && cand.output.shape.every((n, i) => n === ref.output.shape[i]);
  for (const tensor of ['output', 'h_n'] as const) {
    const exp = c.expected[tensor];
    const got = cand?.[tensor];
    if (exp) {
      const tol = resolveTolerance(exp.dtype, options, { tensor, subject: 'reference' });
      tolerance[tensor] = tol;
      checks.push(checkPair(c, tensor, 'reference', ref[tensor], 'expected', exp, tol, equalNan, details));
    }
    if (!got) continue;
    // A float16 port is judged at float16's tolerances: the looser of the two dtypes' decides.
    const tol = resolveTolerance(got.dtype, options, { tensor, subject: 'candidate' }, exp?.dtype ?? c.config.dtype);
    if (!exp || !sameCriteria(tolerance[tensor], tol) || tol.preset !== undefined) tolerance[exp ? `${tensor} (candidate)` : tensor] = tol;
    let tested: Tensor = got;
    if (tensor === 'output' && sized) {
      ({ tested, masked, padded: out.padded } = paddedOutput(c, got, { rtol: tol.rtol, atol: tol.atol, equalNan }, mode));
      outTol = tol;
    }
    // Keras's return_sequences=False output holds final states: compared with h_n's rows.
    const asStates = tensor === 'output' && cand!.outputFinal === true;
    // Final states are the last layer's rows when there are several layers (align.ts setStates).
    const lastLayer = asStates ? c.params.numLayers > 1 : tensor === 'h_n' && cand!.hnLastLayer;
    const part = asStates ? 'final states (return_sequences=False)' : lastLayer ? 'last layer' : tensor === 'output' && out.padded?.mode === 'ignore' ? 'valid steps' : undefined;
    const refOf = (t: { shape: number[]; data: ArrayLike<number> }) => (lastLayer ? lastLayerRows(c, t) : t);
    const stateDetails = asStates ? { ...details, timeAxis: null } : details;
    const expT = asStates ? c.expected.h_n : exp;
    for (const [against, r] of [['reference', asStates ? ref.h_n : ref[tensor]], ['expected', expT]] as const) {
      if (!r) continue;
      const k = checkPair(c, tensor, 'candidate', tested, against, refOf(r), tol, equalNan, stateDetails);
      checks.push(part ? { ...k, part } : k);
    }
  }
  if (out.padded && masked) {
    // Only the padded steps differ when every other candidate check passes and the output, with
    // its padded steps set to PyTorch's zeros, passes against the reference too.
    const others = checks.filter((k) => k.subject === 'candidate' && k.tensor === 'h_n').every((k) => k.pass);
    const k = checks.find((x) => x.subject === 'candidate' && x.tensor === 'output' && x.against === 'reference')!;
    const validPass = mode === 'ignore' ? k.pass : !k.pass && checkPair(c, 'output', 'candidate', masked, 'reference', ref.output, outTol!, equalNan, { stepErrors: false, errorMaps: false, statistics: false, histograms: false }).pass;
    out.padded.onlyDifference = others && validPass;
  }
  return out;
}
