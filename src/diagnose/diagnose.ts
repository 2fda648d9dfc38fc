/**
 * `diagnose`: which porting mistake explains the tensors under test, and where do they fail? The
 * tensors under test are the candidate's (a port's outputs) or, without one, the dump's expected
 * tensors (e.g. a dump from a modified PyTorch model). They are first checked against the
 * reference; if they fail:
 *
 * 1. Localisation (where.ts), for every failure, whether or not a mistake is then named: which
 *    tensors, h_n rows, layer, direction, sequences and first step fail.
 * 2. Every known mistake (variants.ts) that could produce that failure — an h_n-only mistake
 *    cannot explain a failing output, a backward-only one a failing forward direction, one that
 *    first changes layer 1 a failure that starts at layer 0 — is run on the same engine as `run`
 *    and held to the same isclose check, most common mistakes first; the first that reproduces the
 *    whole batch ends the search. It `matches` when the tensors under test pass against it
 *    (every tensor: fixing h_n while breaking output is no match). A precision emulation that
 *    cannot be exact is `likely` when the port's error has the emulation's size and spread.
 * 3. Two mistakes at once, when no single one matches: pairs of the mistakes that explain the
 *    most of the error on their own, each pair consistent with the localisation.
 * 4. Honest ranking: matches, then likely, then `closest` — only a mistake whose max error is at
 *    most a tenth of the port's own explains most of it; otherwise nothing is named and the
 *    localisation is the answer.
 *
 * At run speed: a GRU computes each sequence on its own, so every variant is first screened on one
 * or two failing sequences (subset.ts) — and, for a forward-only GRU, on its first steps — a
 * fraction of a full run; only those that reproduce them (and the closest few) are run on the
 * whole batch, which is what the result reports. A variant that mixes sequences (batch and time
 * swapped) is always run whole.
 *
 * Progress covers all the runs (in flops, progress.ts); the AbortSignal stops the run in hand within
 * a pacing slice, so Ctrl-C is honoured inside a variant, not after it.
 *
 * This file coordinates the phases, in order: the check, localisation (where.ts), the screen
 * (screen.ts), the search with pairs (search.ts, each run scored by score.ts), the ranking (rank.ts).
 */
import type { GruCase } from '../model/types.js';
import { alignOptional, compareCase, settlePaddedSteps, type CheckOptions } from '../check.js';
import { computeGru, defaultPrecision } from '../engine/compute.js';
import { toUserLayout } from '../model/layout.js';
import type { CaseResult } from '../result.js';
import { gruFlops, type GruRunInput } from '../gru/stack.js';
import { resolveTolerance } from '../compare/tolerance.js';
import { variantsFor } from './variants.js';
import { locate } from './where.js';
import { Progress } from './progress.js';
import { subjectOf, type Subject } from './subject.js';
import { planScreen } from './screen.js';
import type { Scoring } from './score.js';
import { search } from './search.js';
import { rank } from './rank.js';

export async function diagnoseCase(c: GruCase, options: CheckOptions = {}): Promise<CaseResult> {
  const precision = options.precision ?? defaultPrecision(c.config.dtype);
  const baseRun: GruRunInput = { params: c.params, input: c.input, seqLen: c.seqLen, batchSize: c.batchSize, h0: c.h0, lengths: c.lengths };
  const flops = gruFlops(baseRun);
  const progress = new Progress(flops, options.onProgress);
  const engine = { engine: options.engine, threads: options.threads, precision, signal: options.signal, onProgress: progress.report };

  const ref = await computeGru(c, engine);
  progress.ran(flops);
  const aligned = alignOptional(c, options);
  const refUser = toUserLayout(c, ref.result);
  const base = compareCase(c, refUser, options, precision, { loadMs: 0, referenceMs: ref.ms, engine: ref.engine, threads: ref.threads, kernel: ref.kernel }, aligned);
  await settlePaddedSteps(c, base, options, precision, aligned?.output);
  // The check that decides: candidate vs reference, or reference vs expected without a candidate.
  const cand = options.candidate;
  const decisive = base.checks.filter((k) => (cand ? k.subject === 'candidate' && k.against === 'reference' : k.subject === 'reference'));
  const result: CaseResult = { ...base, checks: decisive, pass: decisive.every((k) => k.pass), diagnosis: [] };
  // Nothing to diagnose when they pass; and no variant changes shapes, so a shape error is the answer.
  if (result.pass || decisive.some((k) => k.problem !== undefined)) return result;

  const subject = subjectOf(c, refUser, aligned, options);
  const equalNan = options.equalNan ?? false;
  const isclose = (tensor: 'output' | 'h_n') => {
    const k = decisive.find((x) => x.tensor === tensor);
    return { rtol: k?.rtol ?? 0, atol: k?.atol ?? 0, equalNan };
  };
  const where = locate(c, { tested: subject.tested, reference: subject.reference, tolerance: { output: isclose('output'), h_n: isclose('h_n') }, hnLastLayer: subject.reading.hnLastLayer });
  result.where = where;
  const portMax = Math.max(...decisive.map((k) => (k.maxAbsError === null || k.nonFiniteMismatched > 0 ? Infinity : k.maxAbsError)));
  const screen = planScreen(c, decisive.filter((k) => !k.pass), where, subject);
  const tried = await search({ c, all: variantsFor(c), where, portMax, subject, screen, scoring: scoringOf(subject, options, engine), progress, flops });
  progress.finish();
  result.diagnosis = rank(tried, screen, portMax, c.batchSize);
  return result;
}

/** Every variant's run is made on `run`'s engine and held to the check's own tolerances. */
function scoringOf(subject: Subject, options: CheckOptions, engine: Scoring['engine']): Scoring {
  const candidate = !!options.candidate;
  const tol = (tensor: 'output' | 'h_n') => resolveTolerance(subject.dtype[tensor], options, { tensor, subject: candidate ? 'candidate' : 'reference' });
  return {
    engine,
    precision: engine.precision,
    candidate,
    equalNan: options.equalNan ?? false,
    tolerance: { output: tol('output'), h_n: tol('h_n') },
    dtype: subject.dtype,
    reading: subject.reading,
  };
}
