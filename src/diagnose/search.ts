/**
 * The search: every known mistake that could produce the failure `where` describes — an h_n-only
 * mistake cannot explain a failing output, a backward-only one a failing forward direction, one
 * that first changes layer 1 a failure that starts at layer 0 — is screened, most common mistakes
 * first; the first that reproduces the whole batch ends it. When no single one matches: pairs of
 * the mistakes that explain the most of the error on their own (at most PER_FAMILY of a family,
 * PAIR_FROM in all), each pair consistent with the localisation. Only whole-batch numbers are
 * reported, so what looks right on the screen is run whole (confirmed).
 */
import type { GruCase } from '../model/types.js';
import { pairOf, type Variant } from './variants.js';
import type { Where } from '../result.js';
import type { Subject } from './subject.js';
import { wholeOnly, type Screen } from './screen.js';
import { likelihood, portStats, score, type Scored, type Scoring } from './score.js';
import type { Progress } from './progress.js';

/** How many of the closest variants are run whole when none reproduces the screening sequences. */
const CONFIRM_CLOSEST = 3;
/** How many single mistakes, those explaining the most on their own, are paired. */
const PAIR_FROM = 8;
/** How many alternatives of one family are among them. */
const PER_FAMILY = 2;
/** Above this max error a port's error is no rounding noise: precision emulations are not tried. */
const PRECISION_MAX_ERROR = 0.05;

/** Everything the search reads, and the progress it reports into. */
export interface SearchInput {
  c: GruCase;
  /** Every variant of the case, in the order they are tried. */
  all: Variant[];
  where: Where;
  /** The port's max error (Infinity with non-finite mismatches). */
  portMax: number;
  subject: Subject;
  screen: Screen;
  scoring: Scoring;
  progress: Progress;
  /** Flops of one whole run. */
  flops: number;
}

/** A variant tried: its score on the screen, or on the whole batch (`whole`). */
export interface Tried {
  v: Variant;
  s: Scored;
  whole: boolean;
  /** A precision emulation whose error has the port's size and spread: how close (smaller is closer). */
  likely?: number | undefined;
}

/** Can this mistake alone produce the failure `where` describes? */
export function consistent(v: Variant, where: Where, c: GruCase, outputTested: boolean, portMax: number): boolean {
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

const fits = (x: SearchInput, v: Variant): boolean => consistent(v, x.where, x.c, x.subject.tested.output !== undefined, x.portMax);

/** Flops of trying `vs`: a screen each, or a whole run for those that cannot be screened. */
const cost = (x: SearchInput, vs: Variant[]): number => vs.reduce((n, v) => n + (wholeOnly(x.screen, v) ? x.flops : x.flops * x.screen.share), 0);

/** Scores `v` whole or on the screen; undefined when its plan cannot be made. */
async function tryOne(x: SearchInput, v: Variant, whole: boolean): Promise<Tried | undefined> {
  const [on, want, refOn] = whole ? [x.c, x.subject.tested, x.subject.reference] : [x.screen.case!, x.screen.tested, x.screen.reference];
  const s = await score(x.scoring, x.progress, v, on, want, refOn);
  if (!s) return undefined;
  return { v, s, whole, ...(s.emulated ? { likely: likelihood(s, portStats(want, refOn)) } : {}) };
}

/** Screens each variant; with `untilMatch`, stops at the first that reproduces the whole batch. */
async function tryAll(x: SearchInput, vs: Variant[], untilMatch = false): Promise<Tried[]> {
  x.progress.plan(cost(x, vs));
  const out: Tried[] = [];
  for (const [i, v] of vs.entries()) {
    const e = await tryOne(x, v, wholeOnly(x.screen, v));
    if (!e) continue;
    out.push(e);
    if (untilMatch && e.s.matches && !e.v.judge) {
      await confirm(x, [e]);
      if (e.s.matches) {
        x.progress.unplan(cost(x, vs.slice(i + 1)));
        break;
      }
    }
  }
  return out;
}

/** Runs whole those of `es` that were only screened, replacing their scores. */
async function confirm(x: SearchInput, es: Tried[]): Promise<void> {
  const todo = es.filter((e) => !e.whole);
  x.progress.plan(todo.length * x.flops);
  for (const e of todo) {
    const whole = await tryOne(x, e.v, true);
    if (!whole) continue;
    e.s = whole.s;
    e.whole = true;
    if (whole.s.emulated) e.likely = whole.likely;
  }
}

const found = (es: Tried[]): boolean => es.some((e) => e.whole && (e.s.matches || e.likely !== undefined));

/**
 * Two mistakes at once: the singles that explain the most of the error on their own (every
 * applicable one, not only those consistent alone), paired across families. At most PER_FAMILY of
 * a family: alternatives of one family never pair with each other, and would crowd out the other
 * family a pair needs.
 */
function pairsFrom(x: SearchInput, tried: Tried[]): Variant[] {
  const perFamily = new Map<string, number>();
  const ranked = tried
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
      const [a, b] = [ranked[i]!.v, ranked[j]!.v].sort((u, w) => x.all.indexOf(u) - x.all.indexOf(w));
      const p = pairOf(a!, b!);
      if (p && fits(x, p)) pairs.push(p);
    }
  }
  return pairs;
}

/** The variants tried, singles first; pairs only when no single one matches, and only those that match. */
export async function search(x: SearchInput): Promise<Tried[]> {
  const consistentOnes = x.all.filter((v) => fits(x, v));
  // Most common mistakes first; the first that reproduces the whole batch ends the search.
  const singles = await tryAll(x, consistentOnes, true);
  await confirm(x, singles.filter((e) => e.s.matches || e.likely !== undefined));
  if (found(singles)) return singles;
  const rest = await tryAll(x, x.all.filter((v) => !consistentOnes.includes(v) && !v.judge));
  const paired = await tryAll(x, pairsFrom(x, [...singles, ...rest]));
  await confirm(x, paired.filter((e) => e.s.matches));
  const tried = [...singles, ...paired.filter((e) => e.whole && e.s.matches)];
  if (!found(tried)) {
    // Only whole-batch numbers are reported: the closest few singles are run whole.
    await confirm(x, [...singles].sort((a, b) => a.s.maxAbsError - b.s.maxAbsError).slice(0, CONFIRM_CLOSEST));
  }
  return tried;
}
