/**
 * Baselines for scripted regression checks of a port over time: `--save-baseline` records each
 * check's max abs error; `--baseline` fails any check whose error grew past `factor` × the recorded
 * one. Pure functions over results; the CLI reads and writes the file.
 *
 * A recorded error below the float32 machine epsilon (2^-23 ≈ 1.19e-7; e.g. 0 for a bit-exact
 * port) counts as that epsilon, so a port may still move by float32 rounding without failing.
 */
import { GruCheckError } from './errors.js';
import type { CheckResult } from './compare/isclose.js';
import { summarize, type RunSummary } from './summary.js';

export interface Baseline {
  gruCheckBaseline: 1;
  /** case path -> check key (`tensor:subject:against`) -> max abs error */
  cases: Record<string, Record<string, number>>;
}

export interface BaselineVerdict {
  recorded: number;
  factor: number;
  limit: number;
  regressed: boolean;
}

export const ZERO_FLOOR = 2 ** -23;

export const checkKey = (k: CheckResult): string => `${k.tensor}:${k.subject}:${k.against}`;

export function makeBaseline(s: RunSummary): Baseline {
  const cases: Baseline['cases'] = {};
  for (const c of s.cases) {
    if (c.error !== undefined) continue;
    cases[c.case] = Object.fromEntries(c.checks.filter((k) => !k.error).map((k) => [checkKey(k), k.maxAbsError]));
  }
  return { gruCheckBaseline: 1, cases };
}

export function parseBaseline(text: string, file: string): Baseline {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new GruCheckError('BAD_CONFIG', `baseline is not valid JSON (${(e as Error).message})`, { file });
  }
  const b = doc as Baseline;
  const ok = b && typeof b === 'object' && b.gruCheckBaseline === 1 && b.cases && typeof b.cases === 'object' &&
    Object.values(b.cases).every((m) => m && typeof m === 'object' && Object.values(m).every((v) => typeof v === 'number' && v >= 0));
  if (!ok) throw new GruCheckError('BAD_CONFIG', 'not a gru-check baseline (expected {"gruCheckBaseline": 1, "cases": {...}} with non-negative numbers)', { file, hint: 'write one with --save-baseline' });
  return b;
}

/** Marks every check whose max abs error grew past factor × recorded as failed; returns a new summary. */
export function applyBaseline(s: RunSummary, b: Baseline, factor: number): RunSummary {
  const cases = s.cases.map((c) => {
    const rec = b.cases[c.case];
    if (!rec || c.error !== undefined) return c;
    const checks = c.checks.map((k) => {
      const recorded = rec[checkKey(k)];
      if (recorded === undefined || k.error) return k;
      const limit = factor * Math.max(recorded, ZERO_FLOOR);
      const regressed = k.nonFiniteMismatched > 0 || k.maxAbsError > limit;
      const baseline: BaselineVerdict = { recorded, factor, limit, regressed };
      return { ...k, pass: k.pass && !regressed, baseline };
    });
    return { ...c, checks, pass: checks.every((k) => k.pass) };
  });
  return summarize(cases);
}
