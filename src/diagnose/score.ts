/**
 * Scoring one variant: run the reference under the mistake, on the engine `run` uses, and hold the
 * tensors under test to it with the same isclose check. It `matches` when they pass against it
 * (every tensor: fixing h_n while breaking output is no match); `explains` says how much of the
 * port's error it accounts for; a precision emulation also keeps the spread of its own error, which
 * `likelihood` holds the port's error to.
 */
import type { GruCase, StatePrecision, Tensor } from '../model/types.js';
import { checkPair } from '../compare/pair.js';
import { computeGru, type ComputeOptions } from '../engine/compute.js';
import { toUserLayout, type UserTensor } from '../model/layout.js';
import type { Tolerance } from '../compare/tolerance.js';
import { gruFlops, type GruRunInput } from '../gru/stack.js';
import { variantMath, type Variant } from './variants.js';
import { hnOf, validOnly, type Reading, type Tested } from './subject.js';
import type { Progress } from './progress.js';

/** A variant is judged on its metrics alone: no per-step or heatmap summaries. */
const NO_DETAILS = { stepErrors: false, errorMaps: false };

/** How every run is made and judged. */
export interface Scoring {
  /** The engine options of `run`; onProgress reports into diagnose's progress. */
  engine: ComputeOptions;
  precision: StatePrecision;
  /** The tensors under test are a candidate's (held to each run), else the expected ones (each run held to them). */
  candidate: boolean;
  equalNan: boolean;
  tolerance: Record<'output' | 'h_n', Tolerance>;
  dtype: Record<'output' | 'h_n', Tensor['dtype']>;
  reading: Reading;
}

export interface Scored {
  matches: boolean;
  /** Greatest |variant - tested| over the tensors under test. */
  maxAbsError: number;
  /** rms |variant - tested| / rms |reference - tested|: below 1, the variant explains part of the error. */
  explains: number;
  /** Statistical variants: the spread of |variant - reference|, to hold the port's error to. */
  emulated?: ErrorSpread;
}

/** Bins per octave of ErrorSpread's histogram: medians to within 2^(1/16), about 4%. */
const PER_OCTAVE = 16;
const LOWEST = -1100 * PER_OCTAVE;

/** Sum of squares, max and a log-binned histogram of |a - b| (for its median), over tensors. */
export class ErrorSpread {
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

/** The variant's run on `on`, in the dump's layout; undefined when its plan cannot be made. */
async function runVariant(s: Scoring, progress: Progress, v: Variant, on: GruCase): Promise<{ output: UserTensor; h_n: UserTensor } | undefined> {
  let plan;
  try {
    plan = v.plan(on);
  } catch {
    return undefined; // a pair whose two mistakes change the same thing
  }
  let run: GruRunInput = { params: plan.params ?? on.params, input: on.input, seqLen: on.seqLen, batchSize: on.batchSize, h0: plan.h0 ?? on.h0, lengths: on.lengths };
  if (plan.input) run = plan.input(run);
  const out = await computeGru(on, { ...s.engine, precision: plan.precision ?? s.precision, math: variantMath(on, plan.math), decorate: plan.decorate }, run);
  progress.ran(gruFlops(run));
  const user = toUserLayout(on, plan.finish ? plan.finish(out.result, run) : out.result);
  return { ...user, output: validOnly(s.reading, on, user.output) };
}

/** Runs the variant on `on` and holds the tensors under test (`want`) to it; `refOn`: the reference on `on`. */
export async function score(s: Scoring, progress: Progress, v: Variant, on: GruCase, want: Tested, refOn: Tested): Promise<Scored | undefined> {
  const tensors = await runVariant(s, progress, v, on);
  if (!tensors) return undefined;
  let matches = true;
  let maxAbsError = 0;
  const vs = new ErrorSpread();
  const ps = new ErrorSpread();
  const es = new ErrorSpread();
  for (const tensor of ['output', 'h_n'] as const) {
    const t = want[tensor];
    if (!t) continue;
    const tol = s.tolerance[tensor];
    const mine = tensor === 'h_n' ? hnOf(s.reading, on, tensors.h_n) : tensors[tensor];
    const tt = { ...t, dtype: s.dtype[tensor] } as Tensor;
    const k = s.candidate
      ? checkPair(on, tensor, 'candidate', tt, 'reference', mine, tol, s.equalNan, NO_DETAILS)
      : checkPair(on, tensor, 'reference', mine, 'expected', tt, tol, s.equalNan, NO_DETAILS);
    matches &&= k.pass;
    maxAbsError = Math.max(maxAbsError, k.problem || k.nonFiniteMismatched > 0 || k.maxAbsError === null ? Infinity : k.maxAbsError);
    vs.add(mine.data, t.data);
    ps.add(refOn[tensor]!.data, t.data);
    if (v.judge === 'statistical') es.add(mine.data, refOn[tensor]!.data);
  }
  const scored: Scored = { matches, maxAbsError, explains: ps.rms > 0 ? vs.rms / ps.rms : Infinity };
  if (v.judge === 'statistical') scored.emulated = es;
  return scored;
}

/** The port's own error, to hold a statistical emulation's to. */
export function portStats(want: Tested, refOn: Tested): ErrorSpread {
  const e = new ErrorSpread();
  for (const t of ['output', 'h_n'] as const) if (want[t]) e.add(want[t]!.data, refOn[t]!.data);
  return e;
}

/**
 * likely: the port's error (tested - reference) has the emulation's size over all the elements:
 * its median and rms from 1/2 to 6 times the emulation's (variant - reference), its max from
 * 1/3 to 8 times. The median keeps a few outliers (one element off) from passing as noise.
 * The window leans up because an emulation rounds less often than a port computing in that
 * precision throughout (it rounds the stored values and the state, not every product): on the
 * fixtures a float16-compute port's error is 2.5x its emulation's, a float32-compute one's 3.9x.
 * One gross outlier or a structural mistake is far outside; rounding noise of that precision is not.
 * Returns the distance |log(rms ratio)| that ranks likely emulations, or undefined.
 */
export function likelihood(s: Scored, port: ErrorSpread): number | undefined {
  const e = s.emulated;
  if (!e || !(e.median > 0) || !(e.rms > 0)) return undefined;
  const med = port.median / e.median;
  const r = port.rms / e.rms;
  const m = port.max / e.max;
  const within = (x: number, lo: number, hi: number): boolean => x >= lo && x <= hi;
  return within(med, 1 / 2, 6) && within(r, 1 / 2, 6) && within(m, 1 / 3, 8) ? Math.abs(Math.log(r)) : undefined;
}
