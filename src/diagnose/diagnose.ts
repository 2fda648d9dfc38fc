/**
 * `diagnose`: which known porting mistake explains the tensors under test? The tensors under test
 * are the candidate's (a port's outputs) or, without one, the dump's expected tensors. They are
 * first checked against the reference; if they fail, every applicable variant (variants.ts) is
 * re-run and held to the same isclose check. A variant "matches" when the tensors under test pass
 * against it — every tensor, so a variant that fixes h_n but breaks output does not count.
 * Ranking: matches first, then the greatest |variant - tested| ascending.
 *
 * Everything runs on the reference engine, so a variant that re-enacts no mistake at all would
 * reproduce the reference bit for bit. Between variants the event loop gets a turn: progress can
 * be drawn and Ctrl-C is honoured on big cases, where each variant is a full GRU run.
 */
import type { GruCase } from '../model/types.js';
import { runCheck, checkPair, defaultPrecision, type CaseResult, type CheckOptions, type DiagnosisEntry } from '../check.js';
import { resolveTolerance } from '../compare/tolerance.js';
import { VARIANTS } from './variants.js';

export async function diagnoseCase(c: GruCase, options: CheckOptions = {}, loadMs = 0, onProgress?: (done: number, total: number) => void): Promise<CaseResult> {
  const base = await runCheck(c, { ...options, engine: 'reference' }, loadMs);
  // The check that decides: candidate vs reference, or reference vs expected without a candidate.
  const cand = options.candidate;
  const decisive = base.checks.filter((k) => (cand ? k.subject === 'candidate' && k.against === 'reference' : k.subject === 'reference'));
  const result: CaseResult = { ...base, checks: decisive, pass: decisive.every((k) => k.pass), diagnosis: [] };
  // Nothing to diagnose when they pass; and no variant changes shapes, so a shape error is the answer.
  if (result.pass || decisive.some((k) => k.error !== undefined)) return result;

  const precision = options.precision ?? defaultPrecision(c.config.dtype);
  const equalNan = options.equalNan ?? false;
  const entries: DiagnosisEntry[] = [];
  const variants = VARIANTS.filter((v) => v.applies(c));
  for (const [i, v] of variants.entries()) {
    onProgress?.(i, variants.length);
    await new Promise((resolve) => setImmediate(resolve));
    const out = v.run(c, precision);
    let matches = true;
    let maxAbsError = 0;
    for (const tensor of ['output', 'h_n'] as const) {
      const tested = cand ? cand[tensor] : c.expected[tensor];
      if (!tested) continue;
      const tol = resolveTolerance(tested.dtype, options);
      const k = cand
        ? checkPair(c, tensor, 'candidate', tested, 'reference', out[tensor], tol, equalNan)
        : checkPair(c, tensor, 'reference', out[tensor], 'expected', tested, tol, equalNan);
      matches &&= k.pass;
      maxAbsError = Math.max(maxAbsError, k.error || k.nonFiniteMismatched > 0 ? Infinity : k.maxAbsError);
    }
    entries.push({ variant: v.name, matches, maxAbsError, fix: v.fix });
  }
  entries.sort((a, b) => Number(b.matches) - Number(a.matches) || a.maxAbsError - b.maxAbsError);
  result.diagnosis = entries;
  return result;
}
