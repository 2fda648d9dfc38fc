/**
 * `diagnose`: which known porting mistake explains the tensors under test? The tensors under test
 * are the candidate's (a port's outputs) or, without one, the dump's expected tensors. They are
 * first checked against the reference; if they fail, every applicable variant (variants.ts) is run
 * on the same engine as `run` (the fast engine by default) and held to the same isclose check. A
 * variant "matches" when the tensors under test pass against it — every tensor, so a variant that
 * fixes h_n but breaks output does not count. Ranking: matches first, then the greatest
 * |variant - tested| ascending.
 *
 * Progress covers all the runs (reference + variants, in flops); the AbortSignal stops the run in
 * hand within a pacing slice, so Ctrl-C is honoured inside a variant, not after it.
 */
import type { GruCase } from '../model/types.js';
import { checkPair, computeGru, defaultPrecision, compareCase, toUserLayout, type CaseResult, type CheckOptions, type DiagnosisEntry } from '../check.js';
import { gruFlops, type GruRunInput } from '../gru/stack.js';
import { resolveTolerance } from '../compare/tolerance.js';
import { VARIANTS, variantMath } from './variants.js';

/** A variant is judged on its metrics alone: no per-step or heatmap summaries. */
const NO_DETAILS = { stepErrors: false, errorMaps: false };

export async function diagnoseCase(c: GruCase, options: CheckOptions = {}): Promise<CaseResult> {
  const precision = options.precision ?? defaultPrecision(c.config.dtype);
  const variants = VARIANTS.filter((v) => v.applies(c));
  const baseRun: GruRunInput = { params: c.params, input: c.input, seqLen: c.seqLen, batchSize: c.batchSize, h0: c.h0, lengths: c.lengths };
  const flops = gruFlops(baseRun);
  const total = flops * (1 + variants.length);
  let before = 0;
  const progress = options.onProgress && ((d: number) => options.onProgress!(before + d, total, 'compute'));
  const engine = { engine: options.engine, threads: options.threads, precision, signal: options.signal, onProgress: progress };

  const ref = await computeGru(c, engine);
  const base = compareCase(c, toUserLayout(c, ref.result), options, precision, { loadMs: 0, referenceMs: ref.ms, engine: ref.engine, threads: ref.threads, kernel: ref.kernel });
  // The check that decides: candidate vs reference, or reference vs expected without a candidate.
  const cand = options.candidate;
  const decisive = base.checks.filter((k) => (cand ? k.subject === 'candidate' && k.against === 'reference' : k.subject === 'reference'));
  const result: CaseResult = { ...base, checks: decisive, pass: decisive.every((k) => k.pass), diagnosis: [] };
  // Nothing to diagnose when they pass; and no variant changes shapes, so a shape error is the answer.
  if (result.pass || decisive.some((k) => k.problem !== undefined)) return result;

  const equalNan = options.equalNan ?? false;
  const entries: DiagnosisEntry[] = [];
  for (const v of variants) {
    before += flops;
    const plan = v.plan(c);
    let run: GruRunInput = { ...baseRun, params: plan.params ?? c.params, h0: plan.h0 ?? c.h0 };
    if (plan.input) run = plan.input(run);
    const out = await computeGru(c, { ...engine, math: variantMath(c, plan.math), decorate: plan.decorate }, run);
    const tensors = toUserLayout(c, plan.finish ? plan.finish(out.result, run) : out.result);
    let matches = true;
    let maxAbsError = 0;
    for (const tensor of ['output', 'h_n'] as const) {
      const tested = cand ? cand[tensor] : c.expected[tensor];
      if (!tested) continue;
      const tol = resolveTolerance(tested.dtype, options);
      const k = cand
        ? checkPair(c, tensor, 'candidate', tested, 'reference', tensors[tensor], tol, equalNan, NO_DETAILS)
        : checkPair(c, tensor, 'reference', tensors[tensor], 'expected', tested, tol, equalNan, NO_DETAILS);
      matches &&= k.pass;
      maxAbsError = Math.max(maxAbsError, k.problem || k.nonFiniteMismatched > 0 || k.maxAbsError === null ? Infinity : k.maxAbsError);
    }
    entries.push({ variant: v.name, matches, maxAbsError, fix: v.fix });
  }
  entries.sort((a, b) => Number(b.matches) - Number(a.matches) || a.maxAbsError - b.maxAbsError);
  result.diagnosis = entries;
  return result;
}
