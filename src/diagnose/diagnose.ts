/**
 * `diagnose`: which known porting mistake explains the tensors under test? The tensors under test
 * are the candidate's (a port's outputs) or, without one, the dump's expected tensors. They are
 * first checked against the reference; if they fail, every applicable variant (variants.ts) is run
 * on the same engine as `run` (the fast engine by default) and held to the same isclose check. A
 * variant "matches" when the tensors under test pass against it — every tensor, so a variant that
 * fixes h_n but breaks output does not count. Ranking: matches first, then the greatest
 * |variant - tested| ascending.
 *
 * At run speed: a GRU computes each sequence on its own, so every variant is first screened on one
 * or two sequences (the one where the failure is largest, and the shortest one when lengths
 * differ: subset.ts), a fraction of a full run; only the variants that reproduce those sequences,
 * and the closest few when none does, are then run on the whole batch, which is what the result
 * reports. A variant that mixes sequences (batch and time swapped) is always run whole.
 *
 * Progress covers all the runs (in flops); the AbortSignal stops the run in hand within a pacing
 * slice, so Ctrl-C is honoured inside a variant, not after it.
 */
import type { GruCase, Tensor } from '../model/types.js';
import { alignForCase, checkPair, computeGru, defaultPrecision, compareCase, lastLayerRows, toUserLayout, type CaseResult, type CheckOptions, type ComputeOptions, type DiagnosisEntry } from '../check.js';
import type { CheckResult } from '../compare/isclose.js';
import { gruFlops, type GruRunInput } from '../gru/stack.js';
import { resolveTolerance } from '../compare/tolerance.js';
import { VARIANTS, variantMath, type Variant } from './variants.js';
import { batchAxis, subsetCase, subsetTensor } from './subset.js';

/** A variant is judged on its metrics alone: no per-step or heatmap summaries. */
const NO_DETAILS = { stepErrors: false, errorMaps: false };

/** How many of the closest variants are run whole when none reproduces the screening sequences. */
const CONFIRM_CLOSEST = 3;

type Tested = { output?: Tensor | undefined; h_n?: Tensor | undefined };

interface Scored {
  matches: boolean;
  maxAbsError: number;
}

/** The sequences to screen on: where the decisive failure is largest, and the shortest one. */
function screeningRows(c: GruCase, failing: CheckResult[]): number[] | undefined {
  if (c.batchSize <= 2 || !c.config.batched) return undefined;
  const rows = new Set<number>();
  const worst = [...failing].sort((a, b) => (b.maxAbsError ?? Infinity) - (a.maxAbsError ?? Infinity))[0];
  const axis = worst ? batchAxis(c, worst.tensor) : undefined;
  rows.add(worst?.maxAbsIndex && axis !== undefined ? worst.maxAbsIndex[axis]! : 0);
  if (c.lengths) {
    let shortest = 0;
    for (let b = 1; b < c.batchSize; b++) if (c.lengths[b]! < c.lengths[shortest]!) shortest = b;
    if (c.lengths[shortest]! < c.seqLen) rows.add(shortest);
  }
  return [...rows].sort((a, b) => a - b);
}

export async function diagnoseCase(c: GruCase, options: CheckOptions = {}): Promise<CaseResult> {
  const precision = options.precision ?? defaultPrecision(c.config.dtype);
  const variants = VARIANTS.filter((v) => v.applies(c));
  const baseRun: GruRunInput = { params: c.params, input: c.input, seqLen: c.seqLen, batchSize: c.batchSize, h0: c.h0, lengths: c.lengths };
  const flops = gruFlops(baseRun);
  // Progress in flops over every run: the reference, the screens, the runs on the whole batch.
  let total = flops * (1 + variants.length);
  let done = 0;
  const progress = options.onProgress && ((d: number) => options.onProgress!(Math.min(total, done + d), total, 'compute'));
  const engine: ComputeOptions = { engine: options.engine, threads: options.threads, precision, signal: options.signal, onProgress: progress };

  const ref = await computeGru(c, engine);
  done += flops;
  const base = compareCase(c, toUserLayout(c, ref.result), options, precision, { loadMs: 0, referenceMs: ref.ms, engine: ref.engine, threads: ref.threads, kernel: ref.kernel });
  // The check that decides: candidate vs reference, or reference vs expected without a candidate.
  const cand = options.candidate;
  const decisive = base.checks.filter((k) => (cand ? k.subject === 'candidate' && k.against === 'reference' : k.subject === 'reference'));
  const result: CaseResult = { ...base, checks: decisive, pass: decisive.every((k) => k.pass), diagnosis: [] };
  // Nothing to diagnose when they pass; and no variant changes shapes, so a shape error is the answer.
  if (result.pass || decisive.some((k) => k.problem !== undefined)) return result;

  const equalNan = options.equalNan ?? false;
  const aligned = cand ? alignForCase(c, cand, options.candidateLayout) : undefined;
  const tested: Tested = aligned ? { output: aligned.output, h_n: aligned.h_n } : c.expected;
  /** A candidate's last-layer final states are held to the last layer's rows. */
  const hnOf = (on: GruCase, t: { shape: number[]; data: Float64Array }): { shape: number[]; data: Float64Array } => (aligned?.hnLastLayer ? lastLayerRows(on, t) : t);
  const keep = screeningRows(c, decisive.filter((k) => !k.pass));
  const screenCase = keep ? subsetCase(c, keep) : undefined;
  if (keep) total = flops + variants.reduce((n, v) => n + (v.mixesSequences ? flops : (flops * keep.length) / c.batchSize), 0) + CONFIRM_CLOSEST * flops;
  const screenTested: Tested = {};
  if (keep) {
    for (const t of ['output', 'h_n'] as const) {
      const x = tested[t];
      const axis = batchAxis(c, t);
      if (x) screenTested[t] = axis === undefined ? x : subsetTensor(x, axis, keep);
    }
  }

  /** Runs the variant on `on` and holds the tensors under test (`want`) to it. */
  const score = async (v: Variant, on: GruCase, want: Tested): Promise<Scored> => {
    const plan = v.plan(on);
    let run: GruRunInput = { params: plan.params ?? on.params, input: on.input, seqLen: on.seqLen, batchSize: on.batchSize, h0: plan.h0 ?? on.h0, lengths: on.lengths };
    if (plan.input) run = plan.input(run);
    const out = await computeGru(on, { ...engine, math: variantMath(on, plan.math), decorate: plan.decorate }, run);
    done += gruFlops(run);
    const tensors = toUserLayout(on, plan.finish ? plan.finish(out.result, run) : out.result);
    let matches = true;
    let maxAbsError = 0;
    for (const tensor of ['output', 'h_n'] as const) {
      const t = want[tensor];
      if (!t) continue;
      const tol = resolveTolerance(t.dtype, options, { tensor, subject: cand ? 'candidate' : 'reference' });
      const mine = tensor === 'h_n' ? hnOf(on, tensors.h_n) : tensors[tensor];
      const k = cand
        ? checkPair(on, tensor, 'candidate', t, 'reference', mine, tol, equalNan, NO_DETAILS)
        : checkPair(on, tensor, 'reference', mine, 'expected', t, tol, equalNan, NO_DETAILS);
      matches &&= k.pass;
      maxAbsError = Math.max(maxAbsError, k.problem || k.nonFiniteMismatched > 0 || k.maxAbsError === null ? Infinity : k.maxAbsError);
    }
    return { matches, maxAbsError };
  };

  // Screen every variant on the chosen sequences; run whole those that pass the screen (or mix
  // sequences, or when there is nothing to screen on).
  const screened: { v: Variant; s: Scored; whole: boolean }[] = [];
  for (const v of variants) {
    const whole = !screenCase || v.mixesSequences === true;
    screened.push({ v, s: await score(v, whole ? c : screenCase!, whole ? tested : screenTested), whole });
  }
  const anyMatch = screened.some((e) => e.s.matches);
  const confirm = anyMatch
    ? screened.filter((e) => e.s.matches && !e.whole)
    : [...screened].sort((a, b) => a.s.maxAbsError - b.s.maxAbsError).slice(0, CONFIRM_CLOSEST).filter((e) => !e.whole);
  for (const e of confirm) {
    e.s = await score(e.v, c, tested);
    e.whole = true;
  }
  options.onProgress?.(total, total, 'compute');
  // Only whole-batch numbers are reported: a variant judged on the screen alone did not reproduce
  // the screening sequences, so it does not match, and its error there is a lower bound.
  const entries: DiagnosisEntry[] = screened.map((e) => ({ variant: e.v.name, matches: e.whole && e.s.matches, maxAbsError: e.s.maxAbsError, fix: e.v.fix, ...(e.whole ? {} : { screenedOn: keep }) }));
  entries.sort((a, b) => Number(b.matches) - Number(a.matches) || a.maxAbsError - b.maxAbsError);
  result.diagnosis = entries;
  return result;
}
