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
 * Progress covers all the runs (in flops); the AbortSignal stops the run in hand within a pacing
 * slice, so Ctrl-C is honoured inside a variant, not after it.
 */
import type { FloatArray, GruCase, Tensor } from '../model/types.js';
import { alignForCase, checkPair, computeGru, defaultPrecision, compareCase, lastLayerRows, settlePaddedSteps, toUserLayout, type CaseResult, type CheckOptions, type ComputeOptions, type DiagnosisEntry } from '../check.js';
import type { CheckResult } from '../compare/isclose.js';
import { gruFlops, type GruRunInput } from '../gru/stack.js';
import { resolveTolerance } from '../compare/tolerance.js';
import { pairOf, variantMath, variantsFor, type Variant } from './variants.js';
import { batchAxis, subsetCase, subsetTensor, timeAxis, truncateCase, truncateTensor } from './subset.js';
import { locate, type Where } from './where.js';
import { hasPaddedSteps, zeroPadded } from '../compare/padded.js';

/** A variant is judged on its metrics alone: no per-step or heatmap summaries. */
const NO_DETAILS = { stepErrors: false, errorMaps: false };

/** How many of the closest variants are run whole when none reproduces the screening sequences. */
const CONFIRM_CLOSEST = 3;
/** How many single mistakes, those explaining the most on their own, are paired. */
const PAIR_FROM = 8;
/** How many alternatives of one family are among them. */
const PER_FAMILY = 2;
/** Above this max error a port's error is no rounding noise: precision emulations are not tried. */
const PRECISION_MAX_ERROR = 0.05;
/** A mistake explains most of the error when its max error is at most this share of the port's. */
const CLOSEST_SHARE = 0.1;

type T2 = { shape: number[]; data: ArrayLike<number> };
type Tested = { output?: T2 | undefined; h_n?: T2 | undefined };

interface Scored {
  matches: boolean;
  /** Greatest |variant - tested| over the tensors under test. */
  maxAbsError: number;
  /** rms |variant - tested| / rms |reference - tested|: below 1, the variant explains part of the error. */
  explains: number;
  /** Statistical variants: the spread of |variant - reference|, to hold the port's error to. */
  emulated?: ErrorSpread;
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

/** Can this mistake alone produce the failure `where` describes? */
function consistent(v: Variant, where: Where, c: GruCase, outputTested: boolean, portMax: number): boolean {
  // Rounding noise fails wherever it happens to cross the tolerance: no pattern to hold it to;
  // but it stays small (float16 rounding in a GRU, about 1e-3 on values of order 1).
  if (v.judge === 'statistical') return portMax <= PRECISION_MAX_ERROR;
  const t = v.touches ?? {};
  const outputFails = where.tensors.includes('output');
  if (t.hnOnly && outputFails) return false;
  if (outputTested && !outputFails && !t.hnOnly) return false;
  const full = c.lengths ? (where.sequences ?? []).some((b) => c.lengths![b]! >= c.seqLen) : true;
  if (t.shortSequencesOnly && full) return false;
  if (where.onlyShorterThanT && !t.shortSequencesOnly) return false;
  // A mistake shows from the first layer it changes on, or later: its effect on a layer's final
  // states can fade over a long sequence (an ignored h0 after 100 steps) and show only above.
  if (where.layer !== null && (t.fromLayer ?? 0) > where.layer) return false;
  if (t.backwardOnly) {
    // A backward-only mistake leaves the forward direction of the first failing layer right.
    const first = where.layer ?? 0;
    const fwdRow = where.hnRows.find((r) => r.layer === first && r.direction === 'forward');
    if (fwdRow && !fwdRow.pass) return false;
    if (!fwdRow && c.params.numLayers === 1 && where.outputHalves.forward === 'fail') return false;
  }
  if (where.direction === 'backward' && !t.backwardOnly && where.layer !== null && where.hnRows.every((r) => r.direction === 'backward' || r.pass)) return false;
  return true;
}

/** Bins per octave of ErrorSpread's histogram: medians to within 2^(1/16), about 4%. */
const PER_OCTAVE = 16;
const LOWEST = -1100 * PER_OCTAVE;

/** Sum of squares, max and a log-binned histogram of |a - b| (for its median), over tensors. */
class ErrorSpread {
  squares = 0;
  max = 0;
  n = 0;
  zeros = 0;
  private bins = new Map<number, number>();
  add(a: ArrayLike<number>, b: ArrayLike<number>): this {
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - b[i]!);
      this.n++;
      if (!Number.isFinite(d)) {
        this.squares = Infinity;
        this.max = Infinity;
        continue;
      }
      this.squares += d * d;
      if (d > this.max) this.max = d;
      if (d === 0) this.zeros++;
      else {
        const k = Math.max(LOWEST, Math.floor(Math.log2(d) * PER_OCTAVE));
        this.bins.set(k, (this.bins.get(k) ?? 0) + 1);
      }
    }
    return this;
  }
  get rms(): number {
    return this.n === 0 ? 0 : Math.sqrt(this.squares / this.n);
  }
  /** The median |a - b|, to within a bin (the bin's geometric middle). */
  get median(): number {
    let left = Math.floor((this.n - 1) / 2) + 1 - this.zeros;
    if (left <= 0) return 0;
    for (const k of [...this.bins.keys()].sort((x, y) => x - y)) {
      left -= this.bins.get(k)!;
      if (left <= 0) return 2 ** ((k + 0.5) / PER_OCTAVE);
    }
    return this.max;
  }
}

export async function diagnoseCase(c: GruCase, options: CheckOptions = {}): Promise<CaseResult> {
  const precision = options.precision ?? defaultPrecision(c.config.dtype);
  const baseRun: GruRunInput = { params: c.params, input: c.input, seqLen: c.seqLen, batchSize: c.batchSize, h0: c.h0, lengths: c.lengths };
  const flops = gruFlops(baseRun);
  // Progress in flops over every run; the total grows as diagnose decides what else to run.
  let total = flops;
  let done = 0;
  const progress = options.onProgress && ((d: number) => options.onProgress!(Math.min(total, done + d), total, 'compute'));
  const engine: ComputeOptions = { engine: options.engine, threads: options.threads, precision, signal: options.signal, onProgress: progress };

  const ref = await computeGru(c, engine);
  done += flops;
  const base = compareCase(c, toUserLayout(c, ref.result), options, precision, { loadMs: 0, referenceMs: ref.ms, engine: ref.engine, threads: ref.threads, kernel: ref.kernel });
  await settlePaddedSteps(c, base, options, precision);
  // The check that decides: candidate vs reference, or reference vs expected without a candidate.
  const cand = options.candidate;
  const decisive = base.checks.filter((k) => (cand ? k.subject === 'candidate' && k.against === 'reference' : k.subject === 'reference'));
  const result: CaseResult = { ...base, checks: decisive, pass: decisive.every((k) => k.pass), diagnosis: [] };
  // Nothing to diagnose when they pass; and no variant changes shapes, so a shape error is the answer.
  if (result.pass || decisive.some((k) => k.problem !== undefined)) return result;

  const equalNan = options.equalNan ?? false;
  const aligned = cand ? alignForCase(c, cand, options.candidateLayout) : undefined;
  // --padded-steps ignore: every output, the port's and each variant's, is held to its valid steps.
  const ignorePadded = options.paddedSteps === 'ignore' && aligned?.output !== undefined && hasPaddedSteps(c);
  const validOnly = <T extends T2>(on: GruCase, t: T): T => (ignorePadded && hasPaddedSteps(on) ? { ...t, data: zeroPadded(on, t.data) } : t);
  // Keras's return_sequences=False output beside h_n holds the same final states: h_n speaks for both.
  const tested: Tested = aligned ? { output: aligned.output && !aligned.outputFinal ? validOnly(c, aligned.output) : undefined, h_n: aligned.h_n } : c.expected;
  /** A candidate's last-layer final states are held to the last layer's rows. */
  const hnOf = (on: GruCase, t: { shape: number[]; data: FloatArray }): { shape: number[]; data: FloatArray } => (aligned?.hnLastLayer ? lastLayerRows(on, t) : t);
  const refUser = toUserLayout(c, ref.result);
  const refTested = { output: refUser.output, h_n: hnOf(c, refUser.h_n) };
  const tolOf = (tensor: 'output' | 'h_n', dtype: Tensor['dtype']) => resolveTolerance(dtype, options, { tensor, subject: cand ? 'candidate' : 'reference' });
  const opts = (tensor: 'output' | 'h_n') => {
    const k = decisive.find((x) => x.tensor === tensor);
    return { rtol: k?.rtol ?? 0, atol: k?.atol ?? 0, equalNan };
  };
  const where = locate(c, { tested, reference: refTested, tolerance: { output: opts('output'), h_n: opts('h_n') }, hnLastLayer: !!aligned?.hnLastLayer });
  result.where = where;
  const portMax = Math.max(...decisive.map((k) => (k.maxAbsError === null || k.nonFiniteMismatched > 0 ? Infinity : k.maxAbsError)));

  const all = variantsFor(c);
  // The screen: one or two failing sequences of a batch, and, for a forward-only GRU, its first
  // steps (past the first failing one): a fraction of a full run, where any true mistake shows.
  const keep = screeningRows(c, decisive.filter((k) => !k.pass), where);
  const forwardOnly = !c.params.bidirectional && !c.params.reverseOnly;
  const firstBad = where.firstStepByDirection.forward ?? 0;
  const cutTo = forwardOnly && tested.output ? Math.max(Math.ceil(c.seqLen / 8), firstBad + 8) : c.seqLen;
  const steps = cutTo <= c.seqLen / 2 ? cutTo : undefined;
  const screened = keep || steps !== undefined;
  const screenCase = !screened ? undefined : steps !== undefined ? truncateCase(keep ? subsetCase(c, keep) : c, steps) : subsetCase(c, keep!);
  const cut = (x: T2 | undefined, t: 'output' | 'h_n'): T2 | undefined => {
    if (!x) return x;
    if (steps !== undefined && t === 'h_n') return undefined;
    let y = x;
    const axis = batchAxis(c, t);
    if (keep && axis !== undefined) y = subsetTensor(y as Tensor, axis, keep);
    if (steps !== undefined) y = truncateTensor(y as Tensor, timeAxis(c), steps);
    return y;
  };
  const screenTested: Tested = { output: cut(tested.output, 'output'), h_n: cut(tested.h_n, 'h_n') };
  const screenRef: Tested = { output: cut(refTested.output, 'output'), h_n: cut(refTested.h_n, 'h_n') };
  /** Share of a full run one screen costs. */
  const screenShare = ((keep ? keep.length / c.batchSize : 1) * (steps ?? c.seqLen)) / c.seqLen;
  /** Runs that cannot be judged on the screen: mixing sequences, or touching only h_n on a cut one. */
  const wholeOnly = (v: Variant): boolean => !screenCase || v.mixesSequences === true || (steps !== undefined && v.touches?.hnOnly === true);
  const dtypeOf = (t: 'output' | 'h_n'): Tensor['dtype'] => (aligned ? (t === 'output' ? aligned.output?.dtype : aligned.h_n?.dtype) : c.expected[t]?.dtype) ?? c.config.dtype;

  /** Runs the variant on `on` and holds the tensors under test (`want`) to it. */
  const score = async (v: Variant, on: GruCase, want: Tested, refOn: Tested): Promise<Scored | undefined> => {
    let plan;
    try {
      plan = v.plan(on);
    } catch {
      return undefined; // a pair whose two mistakes change the same thing
    }
    let run: GruRunInput = { params: plan.params ?? on.params, input: on.input, seqLen: on.seqLen, batchSize: on.batchSize, h0: plan.h0 ?? on.h0, lengths: on.lengths };
    if (plan.input) run = plan.input(run);
    const out = await computeGru(on, { ...engine, precision: plan.precision ?? precision, math: variantMath(on, plan.math), decorate: plan.decorate }, run);
    done += gruFlops(run);
    const user = toUserLayout(on, plan.finish ? plan.finish(out.result, run) : out.result);
    const tensors = { ...user, output: validOnly(on, user.output) };
    let matches = true;
    let maxAbsError = 0;
    const vs = new ErrorSpread();
    const ps = new ErrorSpread();
    const es = new ErrorSpread();
    for (const tensor of ['output', 'h_n'] as const) {
      const t = want[tensor];
      if (!t) continue;
      const tol = tolOf(tensor, dtypeOf(tensor));
      const mine = tensor === 'h_n' ? hnOf(on, tensors.h_n) : tensors[tensor];
      const tt = { ...t, dtype: dtypeOf(tensor) } as Tensor;
      const k = cand
        ? checkPair(on, tensor, 'candidate', tt, 'reference', mine, tol, equalNan, NO_DETAILS)
        : checkPair(on, tensor, 'reference', mine, 'expected', tt, tol, equalNan, NO_DETAILS);
      matches &&= k.pass;
      maxAbsError = Math.max(maxAbsError, k.problem || k.nonFiniteMismatched > 0 || k.maxAbsError === null ? Infinity : k.maxAbsError);
      vs.add(mine.data, t.data);
      ps.add(refOn[tensor]!.data, t.data);
      if (v.judge === 'statistical') es.add(mine.data, refOn[tensor]!.data);
    }
    const scored: Scored = { matches, maxAbsError, explains: ps.rms > 0 ? vs.rms / ps.rms : Infinity };
    if (v.judge === 'statistical') scored.emulated = es;
    return scored;
  };

  // The port's own error, to hold a statistical emulation's to.
  const portStats = (want: Tested, refOn: Tested): ErrorSpread => {
    const e = new ErrorSpread();
    for (const t of ['output', 'h_n'] as const) if (want[t]) e.add(want[t]!.data, refOn[t]!.data);
    return e;
  };
  /**
   * likely: the port's error (tested - reference) has the emulation's size over all the elements:
   * its median and rms from 1/2 to 6 times the emulation's (variant - reference), its max from
   * 1/3 to 8 times. The median keeps a few outliers (one element off) from passing as noise.
   * The window leans up because an emulation rounds less often than a port computing in that
   * precision throughout (it rounds the stored values and the state, not every product): on the
   * fixtures a float16-compute port's error is 2.5x its emulation's, a float32-compute one's 3.9x.
   * One gross outlier or a structural mistake is far outside; rounding noise of that precision is not.
   */
  const likelihood = (s: Scored, port: ErrorSpread): number | undefined => {
    const e = s.emulated;
    if (!e || !(e.median > 0) || !(e.rms > 0)) return undefined;
    const med = port.median / e.median;
    const r = port.rms / e.rms;
    const m = port.max / e.max;
    const within = (x: number, lo: number, hi: number): boolean => x >= lo && x <= hi;
    return within(med, 1 / 2, 6) && within(r, 1 / 2, 6) && within(m, 1 / 3, 8) ? Math.abs(Math.log(r)) : undefined;
  };

  interface Tried { v: Variant; s: Scored; whole: boolean; likely?: number }
  /** Screens each variant; with `untilMatch`, stops at the first that reproduces the whole batch. */
  const tryAll = async (vs: Variant[], untilMatch = false): Promise<Tried[]> => {
    total += vs.reduce((n, v) => n + (wholeOnly(v) ? flops : flops * screenShare), 0);
    const out: Tried[] = [];
    for (const [i, v] of vs.entries()) {
      const whole = wholeOnly(v);
      const s = await score(v, whole ? c : screenCase!, whole ? tested : screenTested, whole ? refTested : screenRef);
      if (!s) continue;
      const e: Tried = { v, s, whole, ...(s.emulated ? { likely: likelihood(s, portStats(whole ? tested : screenTested, whole ? refTested : screenRef)) } : {}) };
      out.push(e);
      if (untilMatch && e.s.matches && !e.v.judge) {
        await confirm([e]);
        if (e.s.matches) {
          total -= vs.slice(i + 1).reduce((n, w) => n + (wholeOnly(w) ? flops : flops * screenShare), 0);
          break;
        }
      }
    }
    return out;
  };
  async function confirm(es: Tried[]): Promise<void> {
    const todo = es.filter((e) => !e.whole);
    total += todo.length * flops;
    for (const e of todo) {
      const s = await score(e.v, c, tested, refTested);
      if (!s) continue;
      e.s = s;
      e.whole = true;
      if (s.emulated) e.likely = likelihood(s, portStats(tested, refTested));
    }
  }
  const found = (es: Tried[]): boolean => es.some((e) => e.whole && (e.s.matches || e.likely !== undefined));

  const outputTested = tested.output !== undefined;
  const fits = all.filter((v) => consistent(v, where, c, outputTested, portMax));
  // Most common mistakes first; the first that reproduces the whole batch ends the search.
  const singles = await tryAll(fits, true);
  await confirm(singles.filter((e) => e.s.matches || e.likely !== undefined));
  let tried = singles;
  if (!found(singles)) {
    // Two mistakes at once: the singles that explain the most of the error on their own (every
    // applicable one, not only those consistent alone), paired across families.
    const rest = await tryAll(all.filter((v) => !fits.includes(v) && !v.judge));
    // At most PER_FAMILY of a family: alternatives of one family never pair with each other, and
    // would crowd out the other family a pair needs.
    const perFamily = new Map<string, number>();
    const ranked = [...singles, ...rest]
      .filter((e) => !e.v.judge && e.s.explains < 1)
      .sort((a, b) => a.s.explains - b.s.explains)
      .filter((e) => {
        const n = perFamily.get(e.v.family) ?? 0;
        perFamily.set(e.v.family, n + 1);
        return n < PER_FAMILY;
      })
      .slice(0, PAIR_FROM);
    const pairs: Variant[] = [];
    for (let i = 0; i < ranked.length; i++) {
      for (let j = i + 1; j < ranked.length; j++) {
        // Named in the order the mistakes are listed (gate order first, ...), whichever explains more.
        const [a, b] = [ranked[i]!.v, ranked[j]!.v].sort((x, y) => all.indexOf(x) - all.indexOf(y));
        const p = pairOf(a!, b!);
        if (p && consistent(p, where, c, outputTested, portMax)) pairs.push(p);
      }
    }
    const paired = await tryAll(pairs);
    await confirm(paired.filter((e) => e.s.matches));
    tried = [...singles, ...paired.filter((e) => e.whole && e.s.matches)];
    if (!found(tried)) {
      // Only whole-batch numbers are reported: the closest few singles are run whole.
      await confirm([...singles].sort((a, b) => a.s.maxAbsError - b.s.maxAbsError).slice(0, CONFIRM_CLOSEST));
    }
  }
  options.onProgress?.(total, total, 'compute');

  // An emulation that matches outright leaves its family's others no longer likely.
  const matchedFamilies = new Set(tried.filter((e) => e.whole && e.s.matches).map((e) => e.v.family));
  const verdict = (e: Tried): DiagnosisEntry['verdict'] => {
    if (!e.whole) return 'no';
    if (e.s.matches) return 'matches';
    if (e.likely !== undefined && !matchedFamilies.has(e.v.family)) return 'likely';
    return e.s.maxAbsError <= CLOSEST_SHARE * portMax ? 'closest' : 'no';
  };
  const order = { matches: 0, likely: 1, closest: 2, no: 3 } as const;
  const entries: (DiagnosisEntry & { key: number })[] = tried.map((e) => {
    const v = verdict(e);
    return {
      variant: e.v.name,
      matches: v === 'matches',
      verdict: v,
      maxAbsError: e.s.maxAbsError,
      fix: e.v.fix,
      ...(e.whole ? {} : { screenedOn: keep ?? Array.from({ length: c.batchSize }, (_, b) => b), ...(steps !== undefined ? { screenedSteps: steps } : {}) }),
      key: v === 'likely' ? e.likely! : e.s.maxAbsError,
    };
  });
  entries.sort((a, b) => order[a.verdict] - order[b.verdict] || a.key - b.key);
  result.diagnosis = entries.map(({ key: _k, ...e }) => e);
  return result;
}
