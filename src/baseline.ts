/**
 * Baselines for scripted regression checks of a port over time: `--save-baseline` records each
 * check's max abs error; `--baseline` fails any check whose error grew past `factor` × the recorded
 * one. Pure functions over results; the CLI reads and writes the file.
 *
 * Entries are keyed by the case's fingerprint (a SHA-256 of its arrays, check.ts), with the path
 * kept as a label: `cases/c.npz` typed from one folder and `c.npz` from another are the same case,
 * and an edited case is a different one. A case (or a check) with no entry is never a silent pass:
 * it fails with the reason "no baseline entry". A recorded error below the float32 machine epsilon
 * (2^-23 ≈ 1.19e-7; e.g. 0 for a bit-exact port) counts as that epsilon, so a port may still move
 * by float32 rounding without failing.
 *
 * Version 1 files (keyed by the path as typed) are still read, by path, with a warning to re-save.
 */
import { GruCheckError } from './errors.js';
import type { CaseResult } from './check.js';
import type { CheckResult } from './compare/isclose.js';
import { summarize, type RunSummary } from './summary.js';

export interface BaselineEntry {
  /** The case's path when it was recorded: a label for people, not the key. */
  label: string;
  /** check key (`tensor:subject:against`) -> max abs error */
  checks: Record<string, number>;
}

export interface Baseline {
  gruCheckBaseline: 2;
  /** fingerprint -> entry */
  cases: Record<string, BaselineEntry>;
}

interface BaselineV1 {
  gruCheckBaseline: 1;
  cases: Record<string, Record<string, number>>;
}

export interface BaselineVerdict {
  /** null: this check has no entry in the baseline. */
  recorded: number | null;
  factor: number;
  limit: number | null;
  regressed: boolean;
  /** Why the check failed against the baseline, one sentence; absent when it did not. */
  reason?: string;
}

/** What a case's baseline lookup found. */
export interface CaseBaseline {
  status: 'found' | 'missing';
  fingerprint: string | null;
  /** The label the entry was recorded under (may differ from this run's path). */
  label?: string;
  reason?: string;
}

export const ZERO_FLOOR = 2 ** -23;

export const checkKey = (k: CheckResult): string => `${k.tensor}:${k.subject}:${k.against}`;
const checkName = (k: CheckResult): string => `${k.tensor} (${k.subject} vs ${k.against})`;

export function makeBaseline(s: RunSummary): Baseline {
  const cases: Baseline['cases'] = {};
  for (const c of s.cases) {
    if (c.error !== undefined) continue;
    if (!c.fingerprint) throw new GruCheckError('USAGE', `${c.case}: no fingerprint to key the baseline entry by (check with fingerprint: true)`);
    const checks: Record<string, number> = {};
    for (const k of c.checks) if (k.maxAbsError !== null) checks[checkKey(k)] = k.maxAbsError;
    cases[c.fingerprint] = { label: c.case, checks };
  }
  return { gruCheckBaseline: 2, cases };
}

const nonNegative = (v: unknown): boolean => typeof v === 'number' && v >= 0;
const isChecks = (m: unknown): m is Record<string, number> => !!m && typeof m === 'object' && !Array.isArray(m) && Object.values(m).every(nonNegative);

export function parseBaseline(text: string, file: string): Baseline | BaselineV1 {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new GruCheckError('BAD_CONFIG', `baseline is not valid JSON (${(e as Error).message})`, { file });
  }
  const b = doc as { gruCheckBaseline?: unknown; cases?: unknown };
  const cases = b && typeof b === 'object' ? b.cases : undefined;
  const isObj = !!cases && typeof cases === 'object' && !Array.isArray(cases);
  if (isObj && b.gruCheckBaseline === 2 && Object.values(cases as object).every((e) => !!e && typeof e === 'object' && typeof (e as BaselineEntry).label === 'string' && isChecks((e as BaselineEntry).checks))) {
    return doc as Baseline;
  }
  if (isObj && b.gruCheckBaseline === 1 && Object.values(cases as object).every(isChecks)) return doc as BaselineV1;
  throw new GruCheckError('BAD_CONFIG', 'not a gru-check baseline (expected {"gruCheckBaseline": 2, "cases": {fingerprint: {"label", "checks"}}})', { file, hint: 'write one with --save-baseline' });
}

function judge(k: CheckResult, recorded: number | undefined, factor: number): CheckResult {
  if (recorded === undefined) {
    const reason = `no baseline entry for ${checkName(k)}`;
    return { ...k, pass: false, baseline: { recorded: null, factor, limit: null, regressed: false, reason } };
  }
  const limit = factor * Math.max(recorded, ZERO_FLOOR);
  if (k.maxAbsError === null || k.nonFiniteMismatched > 0) {
    const reason = `${checkName(k)}: ${k.problem ?? 'NaN/inf mismatches'}, recorded max abs error ${recorded.toExponential(2)}`;
    return { ...k, pass: false, baseline: { recorded, factor, limit, regressed: true, reason } };
  }
  const regressed = k.maxAbsError > limit;
  const grew = k.maxAbsError / Math.max(recorded, ZERO_FLOOR);
  const verdict: BaselineVerdict = { recorded, factor, limit, regressed };
  if (regressed) {
    verdict.reason = `${checkName(k)}: max abs error ${k.maxAbsError.toExponential(2)}, recorded ${recorded.toExponential(2)}: grew ${Number(grew.toPrecision(3))}x, allowed ${factor}x`;
  }
  return { ...k, pass: k.pass && !regressed, baseline: verdict };
}

/**
 * Judges every case against the baseline; returns a new summary. A case with no entry fails with
 * the reason "no baseline entry"; a check with no entry in a found case fails the same way.
 */
export function applyBaseline(s: RunSummary, b: Baseline | BaselineV1, factor: number): RunSummary {
  const cases = s.cases.map((c): CaseResult => {
    if (c.error !== undefined) return c;
    let entry: BaselineEntry | undefined;
    if (b.gruCheckBaseline === 2) entry = c.fingerprint ? b.cases[c.fingerprint] : undefined;
    else entry = b.cases[c.case] ? { label: c.case, checks: b.cases[c.case]! } : undefined;
    const fingerprint = c.fingerprint ?? null;
    if (!entry) {
      const reason = `no baseline entry for this case${fingerprint ? ` (fingerprint ${fingerprint.slice(0, 12)})` : ''}: record one with --save-baseline`;
      return { ...c, pass: false, baselineCase: { status: 'missing', fingerprint, reason } };
    }
    const checks = c.checks.map((k) => judge(k, entry!.checks[checkKey(k)], factor));
    return { ...c, checks, pass: checks.every((k) => k.pass), baselineCase: { status: 'found', fingerprint, label: entry.label } };
  });
  return summarize(cases);
}

/** One sentence per way the case failed its baseline, for every renderer. */
export function baselineReasons(c: CaseResult): string[] {
  const out: string[] = [];
  if (c.baselineCase?.reason) out.push(c.baselineCase.reason);
  for (const k of c.checks) if (k.baseline?.reason) out.push(k.baseline.reason);
  return out;
}
