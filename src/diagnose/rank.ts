/**
 * Honest ranking of the variants tried: matches, then likely (a precision emulation whose error
 * has the port's size and spread, closest first), then `closest` — only a mistake whose max error
 * is at most a tenth of the port's own explains most of it; otherwise nothing is named and the
 * localisation is the answer. A variant only screened is reported as such, with the sequences
 * and steps it was screened on.
 */
import type { DiagnosisEntry } from '../result.js';
import type { Screen } from './screen.js';
import type { Tried } from './search.js';

/** A mistake explains most of the error when its max error is at most this share of the port's. */
const CLOSEST_SHARE = 0.1;

const ORDER = { matches: 0, likely: 1, closest: 2, no: 3 } as const;

/** Each tried variant's verdict; `matchedFamilies`: families with a whole-batch match. */
function verdictOf(e: Tried, matchedFamilies: Set<string>, portMax: number): DiagnosisEntry['verdict'] {
  if (!e.whole) return 'no';
  if (e.s.matches) return 'matches';
  if (e.likely !== undefined && !matchedFamilies.has(e.v.family)) return 'likely';
  return e.s.maxAbsError <= CLOSEST_SHARE * portMax ? 'closest' : 'no';
}

/** The diagnosis entries, best first. `batchSize`: the case's, for a screen that kept every sequence. */
export function rank(tried: Tried[], screen: Screen, portMax: number, batchSize: number): DiagnosisEntry[] {
  // An emulation that matches outright leaves its family's others no longer likely.
  const matchedFamilies = new Set(tried.filter((e) => e.whole && e.s.matches).map((e) => e.v.family));
  const entries: (DiagnosisEntry & { key: number })[] = tried.map((e) => {
    const v = verdictOf(e, matchedFamilies, portMax);
    return {
      variant: e.v.name,
      matches: v === 'matches',
      verdict: v,
      maxAbsError: e.s.maxAbsError,
      fix: e.v.fix,
      ...(e.whole ? {} : { screenedOn: screen.keep ?? Array.from({ length: batchSize }, (_, b) => b), ...(screen.steps !== undefined ? { screenedSteps: screen.steps } : {}) }),
      key: v === 'likely' ? e.likely! : e.s.maxAbsError,
    };
  });
  entries.sort((a, b) => ORDER[a.verdict] - ORDER[b.verdict] || a.key - b.key);
  return entries.map(({ key: _k, ...e }) => e);
}
